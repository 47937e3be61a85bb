import SwitchboardAdapterAPI

/// The daemon as one node of several on a shared PostgreSQL store (the `cluster` object).
public struct ClusterSettings: Sendable, Hashable {
    /// This node's id (`cluster.nodeId`): unique among the nodes of one database.
    public var nodeId: String
    /// Where clients and operators reach this node (`cluster.advertise`), such as
    /// `http://10.0.0.5:8377`: shown by `cluster status`.
    public var advertise: String?
    /// How long a session's lease lasts without renewal (`cluster.leaseSeconds`): a node
    /// that stops renewing loses its sessions to another after this long.
    public var leaseSeconds: Int = ClusterSettings.defaultLeaseSeconds

    /// The default `leaseSeconds`.
    public static let defaultLeaseSeconds = 15
    /// The values `leaseSeconds` may take.
    public static let leaseSecondsRange = 3...600
    /// The keys of the `cluster` object.
    public static let keys: [String] = ["advertise", "leaseSeconds", "nodeId"]

    public init(nodeId: String, advertise: String? = nil, leaseSeconds: Int = ClusterSettings.defaultLeaseSeconds) {
        self.nodeId = nodeId
        self.advertise = advertise
        self.leaseSeconds = leaseSeconds
    }

    /// Why `id` cannot be a node id, or `nil`: 1 to 64 letters, digits, `.`, `_` or `-`.
    public static func nodeIdProblem(_ id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= 64 else { return "must be 1 to 64 characters, not \(id.utf8.count)" }
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        return allowed ? nil : "may hold only letters, digits, '.', '_' and '-', not \(JSONValue.string(id).jsonText)"
    }
}

extension SwitchboardConfig {
    /// Reads `cluster`, reporting each problem with its key path. It needs a PostgreSQL store.
    static func parseCluster(_ object: [String: JSONValue], into config: inout SwitchboardConfig, issue: (String, String) -> Void) {
        guard let value = object["cluster"] else { return }
        guard let cluster = value.objectValue else {
            issue("cluster", "must be an object such as {\"nodeId\": \"node-a\"}, not \(value.kindDescription)")
            return
        }
        for key in cluster.keys.sorted() where !ClusterSettings.keys.contains(key) {
            issue("cluster.\(key)", "unknown key (known keys: \(ClusterSettings.keys.joined(separator: ", ")))")
        }
        guard let idValue = cluster["nodeId"] else {
            issue("cluster.nodeId", "is required: a name for this node, unique among the nodes of the database, such as \"node-a\"")
            return
        }
        guard let nodeId = idValue.stringValue else {
            issue("cluster.nodeId", "must be a string, not \(idValue.kindDescription)")
            return
        }
        if let problem = ClusterSettings.nodeIdProblem(nodeId) {
            issue("cluster.nodeId", problem)
            return
        }
        var settings = ClusterSettings(nodeId: nodeId)
        if let advertise = cluster["advertise"] {
            if let text = advertise.stringValue, !text.isEmpty, text.utf8.count <= 512 {
                settings.advertise = text
            } else {
                issue("cluster.advertise", "must be the URL this node is reached at (up to 512 bytes), such as \"http://10.0.0.5:8377\", not \(advertise.kindDescription)")
            }
        }
        if let seconds = cluster["leaseSeconds"] {
            let range = ClusterSettings.leaseSecondsRange
            if let n = seconds.intValue, range.contains(n) {
                settings.leaseSeconds = n
            } else {
                issue("cluster.leaseSeconds", "must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound), not \(seconds.jsonText)")
            }
        }
        if config.store.kind != .postgres {
            issue("cluster", "needs a shared store: set \"store\": {\"kind\": \"postgres\", \"url\": \"postgres://…\"} (the nodes of a cluster share one PostgreSQL database)")
            return
        }
        config.cluster = settings
    }
}
