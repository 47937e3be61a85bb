/// The Swift compiler that built this code, as a plugin descriptor's `toolchain` names it.
///
/// Swift has no stable ABI on Linux: a Swift plugin must be built by the same compiler
/// version as the host that loads it. The plugin SDK writes ``current`` into every Swift
/// plugin's descriptor, and the host compares it with its own ``current`` (both are this
/// one definition, compiled into each side), refusing a plugin that differs.
public enum SwiftToolchain {
    /// The compiler's full version as `swift --version` writes it: `Swift 6.3.1`, and
    /// `Swift 6.3` for 6.3.0. Outside the versions this list knows (6.1 to 6.5, patch
    /// levels up to 5) it is `Swift 6.6 or later` or `Swift 6.0 or earlier`.
    public static var current: String {
        #if compiler(>=6.6)
        "Swift 6.6 or later"
        #elseif compiler(>=6.5.5)
        "Swift 6.5.5"
        #elseif compiler(>=6.5.4)
        "Swift 6.5.4"
        #elseif compiler(>=6.5.3)
        "Swift 6.5.3"
        #elseif compiler(>=6.5.2)
        "Swift 6.5.2"
        #elseif compiler(>=6.5.1)
        "Swift 6.5.1"
        #elseif compiler(>=6.5.0)
        "Swift 6.5"
        #elseif compiler(>=6.4.5)
        "Swift 6.4.5"
        #elseif compiler(>=6.4.4)
        "Swift 6.4.4"
        #elseif compiler(>=6.4.3)
        "Swift 6.4.3"
        #elseif compiler(>=6.4.2)
        "Swift 6.4.2"
        #elseif compiler(>=6.4.1)
        "Swift 6.4.1"
        #elseif compiler(>=6.4.0)
        "Swift 6.4"
        #elseif compiler(>=6.3.5)
        "Swift 6.3.5"
        #elseif compiler(>=6.3.4)
        "Swift 6.3.4"
        #elseif compiler(>=6.3.3)
        "Swift 6.3.3"
        #elseif compiler(>=6.3.2)
        "Swift 6.3.2"
        #elseif compiler(>=6.3.1)
        "Swift 6.3.1"
        #elseif compiler(>=6.3.0)
        "Swift 6.3"
        #elseif compiler(>=6.2.5)
        "Swift 6.2.5"
        #elseif compiler(>=6.2.4)
        "Swift 6.2.4"
        #elseif compiler(>=6.2.3)
        "Swift 6.2.3"
        #elseif compiler(>=6.2.2)
        "Swift 6.2.2"
        #elseif compiler(>=6.2.1)
        "Swift 6.2.1"
        #elseif compiler(>=6.2.0)
        "Swift 6.2"
        #elseif compiler(>=6.1.5)
        "Swift 6.1.5"
        #elseif compiler(>=6.1.4)
        "Swift 6.1.4"
        #elseif compiler(>=6.1.3)
        "Swift 6.1.3"
        #elseif compiler(>=6.1.2)
        "Swift 6.1.2"
        #elseif compiler(>=6.1.1)
        "Swift 6.1.1"
        #elseif compiler(>=6.1.0)
        "Swift 6.1"
        #else
        "Swift 6.0 or earlier"
        #endif
    }

    /// Whether a descriptor's `toolchain` names a Swift compiler (`Swift …`); plugins built
    /// with other toolchains (C, say) do not depend on the Swift runtime's ABI.
    public static func isSwift(_ toolchain: String) -> Bool {
        toolchain.hasPrefix("Swift ")
    }
}
