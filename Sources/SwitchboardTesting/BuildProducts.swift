#if canImport(Glibc)
import Glibc
#endif
import SwitchboardCore

/// Where SwiftPM put the package's built products, for tests that load the real plugins.
public enum BuildProducts {
    /// The directory of the built products: `$SWITCHBOARD_BUILD_DIR` when set, else the
    /// directory of the running executable (for `swift test`, SwiftPM's bin path).
    public static var directory: String {
        if let dir = getenv("SWITCHBOARD_BUILD_DIR") { return String(cString: dir) }
        return FilePaths.executableDirectory()
    }

    /// The path of a plugin product, e.g. `plugin("ScriptedAdapter")` → `…/libScriptedAdapter.so`.
    public static func plugin(_ product: String) -> String {
        FilePaths.join(directory, "lib\(product).so")
    }

    /// The path of an executable product, e.g. `executable("switchboard")`.
    public static func executable(_ name: String) -> String {
        FilePaths.join(directory, name)
    }
}
