"""firewall: the header every ruleset file starts with is what prune and state=absent go by (issue 20)."""
from __future__ import annotations

import os

from ansible_collections.mediaops.wcs.plugins.module_utils import firewall as fw


def test_every_rendered_file_starts_with_the_mark_naming_its_container():
    text = fw.render(fw.desired_rules(fw.container_ports(fw.firewall_spec({"admin_cidrs": ["192.0.2.0/24"]}))),
                     "wcs-1")
    assert text.startswith(fw.FILE_MARK + ": wcs-1.")


def test_the_header_is_the_one_every_release_wrote():
    # files written by earlier releases must stay removable: the header text is part of the contract
    assert fw.FILE_MARK == "# Managed by mediaops.wcs (wcs_firewall)"


def test_prune_candidates_are_only_the_collections_files(tmp_path):
    (tmp_path / "wcs-gone.nft").write_text(fw.render([], "wcs-gone"))
    (tmp_path / "wcs-live.nft").write_text(fw.render([], "wcs-live"))
    (tmp_path / "mine.nft").write_text("# my own rules\ntable inet mine {}\n")
    (tmp_path / "renamed.nft").write_text(fw.render([], "wcs-gone"))  # header names another container
    (tmp_path / "empty.nft").write_text("")
    (tmp_path / "notes.txt").write_text(fw.render([], "notes"))
    (tmp_path / "dir.nft").mkdir()
    os.symlink(tmp_path / "wcs-gone.nft", tmp_path / "link.nft")
    candidates, kept = fw.prune_candidates(str(tmp_path), {"wcs-live.nft"})
    assert candidates == [("wcs-gone.nft", "wcs-gone")]
    assert sorted(os.path.basename(k["file"]) for k in kept) == ["dir.nft", "empty.nft", "link.nft", "mine.nft",
                                                                 "renamed.nft"]
    assert all(k["reason"] for k in kept)


def test_a_header_further_down_or_a_prefix_of_another_name_does_not_count(tmp_path):
    path = tmp_path / "wcs-1.nft"
    path.write_text("table inet x {}\n" + fw.render([], "wcs-1"))
    assert fw.file_mark_problem(str(path), "wcs-1")
    path.write_text(fw.render([], "wcs-10"))
    assert fw.file_mark_problem(str(path), "wcs-1")
    path.write_bytes(b"\xff\xfe" * 10000)
    assert fw.file_mark_problem(str(path), "wcs-1")
    assert fw.prune_candidates(str(tmp_path / "missing"), set()) == ([], [])
