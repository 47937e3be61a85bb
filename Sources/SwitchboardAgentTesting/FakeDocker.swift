import Foundation
import SwitchboardTesting

/// A fake `docker` executable for container-mode tests: it records the arguments of every
/// call, and runs `docker exec [-i] [-u USER] [-w DIR] [-e NAME[=VALUE]]… CONTAINER CMD ARGS…`
/// locally — `exec`ing `CMD` in `DIR` with a clean environment that has only a `PATH` and
/// the `-e` variables (`-e NAME` takes the value from the fake's own environment, as the
/// real client does), like a process inside a container would.
///
/// Inside the "container", `claude` is the real CLI (`container-bin/claude` links to it).
/// Put ``binDirectory`` first on the `PATH` the adapter uses, or name ``dockerPath`` in its
/// settings.
public struct FakeDocker: Sendable {
    /// The directory holding the `docker` script.
    public let binDirectory: String
    /// The script's path.
    public var dockerPath: String { binDirectory + "/docker" }
    /// The directory that plays the container's `/usr/local/bin`: it holds `claude`.
    public let containerBinDirectory: String
    /// A `PATH` that finds the fake `docker` first (on the host) and `claude` (in the
    /// "container", when the variable is passed in with `-e PATH`).
    public var searchPath: String { "\(binDirectory):\(containerBinDirectory):/usr/local/bin:/usr/bin:/bin" }
    private let invocationsDirectory: String

    /// Writes the fake into `directory` (which must exist); `claude` is what `claude` runs
    /// inside the fake container.
    public init(in directory: String, claude: String) throws {
        binDirectory = directory + "/bin"
        invocationsDirectory = directory + "/invocations"
        containerBinDirectory = directory + "/container-bin"
        let containerBin = containerBinDirectory
        let fm = FileManager.default
        for dir in [binDirectory, invocationsDirectory, containerBin] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try Self.script(invocations: invocationsDirectory, containerBin: containerBin)
            .write(toFile: dockerPath, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dockerPath)
        try? fm.removeItem(atPath: containerBin + "/claude")
        try fm.createSymbolicLink(atPath: containerBin + "/claude", withDestinationPath: claude)
    }

    /// The arguments of every call so far (without the program name), oldest first.
    public var invocations: [[String]] {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: invocationsDirectory)) ?? []).sorted()
        return names.compactMap { name in
            guard let data = fm.contents(atPath: invocationsDirectory + "/" + name) else { return nil }
            var args = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if args.last == "" { args.removeLast() }
            return args
        }
    }

    static func script(invocations: String, containerBin: String) -> String {
        #"""
        #!/usr/bin/env bash
        # Fake docker for Switchboard's tests: records its arguments, runs `docker exec` locally.
        set -u
        record="\#(invocations)/$(date +%s%N)-$$"
        printf '%s\0' "$@" > "$record"
        if [ "${1:-}" != exec ]; then
          echo "fake docker: only 'exec' is supported, not '${1:-}'" >&2
          exit 125
        fi
        shift
        workdir=/
        envs=()
        while [ $# -gt 0 ]; do
          case "$1" in
            -i|--interactive) shift ;;
            -u|--user) shift 2 ;;
            -w|--workdir) workdir="$2"; shift 2 ;;
            -e|--env) envs+=("$2"); shift 2 ;;
            -*) echo "fake docker: unsupported option '$1'" >&2; exit 125 ;;
            *) break ;;
          esac
        done
        if [ $# -lt 2 ]; then
          echo "fake docker: exec needs a container and a command" >&2
          exit 125
        fi
        container="$1"
        shift
        vars=("PATH=\#(containerBin):/usr/local/bin:/usr/bin:/bin")
        for e in "${envs[@]}"; do
          case "$e" in
            *=*) vars+=("$e") ;;
            *) if [ -n "${!e+x}" ]; then vars+=("$e=${!e}"); fi ;;
          esac
        done
        cd "$workdir" 2>/dev/null || { echo "fake docker: no directory '$workdir' in container '$container'" >&2; exit 126; }
        exec env -i "${vars[@]}" "$@"
        """#
    }
}
