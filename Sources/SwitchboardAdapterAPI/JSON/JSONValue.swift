/// A JSON value, as read from a config file or a plugin's settings.
///
/// Numbers keep their original text so that settings pass through the host untouched
/// (a 64-bit id stays exact); use ``intValue`` or ``doubleValue`` to read them.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, stored as the literal text it was written with.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses one JSON document.
    /// - Throws: ``JSONError`` naming the byte offset and what was expected.
    public init(parsing text: String) throws(JSONError) {
        var copy = text
        self = try copy.withUTF8 { buffer in
            Result { () throws(JSONError) -> JSONValue in try JSONValue(parsing: buffer) }
        }.get()
    }

    /// Parses one JSON document from raw bytes.
    public init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) {
        var reader = JSONReader(bytes)
        self = try reader.readValue()
        try reader.expectEnd()
    }

    /// A number value from an integer.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an `Int`, if this is a number written as an integer that fits.
    public var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }

    /// The value as a `Double`, if this is a number.
    public var doubleValue: Double? {
        if case .number(let n) = self { return Double(n) }
        return nil
    }

    /// The flag, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// Looks a member up, if this is an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// A short name of the value's kind, for error messages ("a string", "an object").
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as compact JSON text (object keys sorted, so output is stable).
    public var jsonText: String {
        var writer = JSONWriter()
        writer.write(self)
        return writer.string
    }

    /// The value as indented JSON text, for people to read.
    public var prettyText: String {
        var writer = JSONWriter()
        writer.writePretty(self, indent: 0)
        return writer.string
    }
}

/// A JSON syntax error with the byte offset where it was found.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset into the input.
    public var offset: Int
    /// What was wrong there.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
