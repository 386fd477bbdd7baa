/// Reads the image out of an engine's `run` command line, the same way for
/// `docker`, `podman` and `nerdctl`: `ENGINE [GLOBAL OPTIONS] [container]
/// run [OPTIONS] IMAGE [COMMAND...]`. An option is known to take no value
/// (a flag) or assumed to take one, so `--name x IMAGE` and `--rm IMAGE`
/// both find IMAGE; `--image` overrides a guess that goes wrong.
enum EngineCommandLine {
    /// The flags (no value) of the three engines' global options and of
    /// their `run`. Any other option written without "=" takes the next word.
    static let longFlags: Set<String> = [
        // global: docker, podman, nerdctl
        "--debug", "--tls", "--tlsverify", "--remote", "--syslog", "--noout", "--debug-full", "--insecure-registry",
        "--experimental",
        // run
        "--rm", "--detach", "--interactive", "--tty", "--privileged", "--init", "--read-only", "--read-only-tmpfs",
        "--publish-all", "--no-healthcheck", "--oom-kill-disable", "--disable-content-trust", "--sig-proxy", "--quiet",
        "--replace", "--rmi", "--no-hosts", "--env-host", "--http-proxy", "--passwd", "--help", "--tls-verify",
    ]
    /// Short options that take a value; the other letters are flags (-d, -i, -t, -P, -q, -D, -r, ...).
    static let shortWithValue: Set<Character> = ["a", "c", "e", "h", "H", "l", "m", "n", "p", "u", "v", "w"]

    static func image(in argv: [String]) -> String? {
        var words = argv.dropFirst()[...]  // the engine itself
        guard let command = nextWord(&words) else { return nil }
        if command == "container" {
            guard nextWord(&words) == "run" else { return nil }
        } else if command != "run" {
            return nil
        }
        return nextWord(&words)
    }

    /// Skips options (with their values) and returns the first word that is
    /// not one; after "--" the next word is taken as it is.
    private static func nextWord(_ words: inout ArraySlice<String>) -> String? {
        while let word = words.popFirst() {
            if word == "--" { return words.popFirst() }
            if word.hasPrefix("--") {
                if !word.contains("="), !longFlags.contains(word) { _ = words.popFirst() }
            } else if word.hasPrefix("-"), word.count > 1 {
                // A cluster of short options: the first that takes a value
                // takes the rest of the cluster, or the next word.
                let letters = word.dropFirst()
                if let index = letters.firstIndex(where: shortWithValue.contains), letters.index(after: index) == letters.endIndex {
                    _ = words.popFirst()
                }
            } else {
                return word
            }
        }
        return nil
    }
}
