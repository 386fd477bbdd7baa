// `--write-seeds=DIR` writes the seed corpus and exits; anything else is
// libFuzzer's flags (scripts/fuzz.sh). SwiftPM gives an executable its own
// main, so libFuzzer's is not linked and its driver is called from here.
import Glibc

let seedsFlag = "--write-seeds="
if let argument = CommandLine.arguments.dropFirst().first(where: { $0.hasPrefix(seedsFlag) }) {
    exit(FuzzSeeds.write(into: String(argument.dropFirst(seedsFlag.count))) ? 0 : 1)
}
exit(FuzzChecks.runDriver())
