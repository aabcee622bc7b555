// Reads property files with the JDK's own parser (java.util.Properties.load) and prints what Java sees, for the
// round-trip tests of plugins/module_utils/properties.py (tests/unit/plugins/module_utils/test_properties_jdk.py).
//
// Usage: java PropsRoundTrip.java FILE...   (or javac it once and run `java -cp DIR PropsRoundTrip FILE...`)
// Without arguments it reads one path per line from stdin and answers each at once (one JVM for a whole test run).
// One line of JSON per file, in order:
//   {"reader": [[key, value], ...], "stream": [[key, value], ...]}
// "reader" is load(Reader) with UTF-8 (what a Java program reading the file as text sees), "stream" is
// load(InputStream) (ISO-8859-1, what Properties.load(FileInputStream) sees). Entries are sorted by key. A file Java
// refuses (a malformed backslash-u escape) gives {"error": "<exception>"}. Every character outside printable ASCII
// is printed as a backslash-u escape (UTF-16 units: Python's json module reads a surrogate pair back as one
// character).
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

public class PropsRoundTrip {
    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    static String entries(Properties props) {
        List<String> keys = new ArrayList<>(props.stringPropertyNames());
        Collections.sort(keys);
        StringBuilder out = new StringBuilder("[");
        for (String key : keys) {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append('[').append(quote(key)).append(", ").append(quote(props.getProperty(key))).append(']');
        }
        return out.append(']').toString();
    }

    static String answer(String path) throws Exception {
        Properties reader = new Properties();
        Properties stream = new Properties();
        try {
            try (Reader in = new InputStreamReader(new FileInputStream(path), StandardCharsets.UTF_8)) {
                reader.load(in);
            }
            try (InputStream in = new FileInputStream(path)) {
                stream.load(in);
            }
        } catch (IllegalArgumentException err) {
            return "{\"error\": " + quote(err.toString()) + "}";
        }
        return "{\"reader\": " + entries(reader) + ", \"stream\": " + entries(stream) + "}";
    }

    public static void main(String[] args) throws Exception {
        for (String path : args) {
            System.out.println(answer(path));
        }
        if (args.length == 0) {
            BufferedReader paths = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String path;
            while ((path = paths.readLine()) != null) {
                System.out.println(answer(path));
                System.out.flush();
            }
        }
    }
}
