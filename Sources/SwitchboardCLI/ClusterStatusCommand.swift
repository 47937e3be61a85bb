import ArgumentParser
import Foundation
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardPostgres

/// `switchboard cluster …`
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at the nodes that share the PostgreSQL store.",
        subcommands: [Status.self]
    )

    /// `switchboard cluster status [--json]`
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nodes, the sessions each runs, and the leases.",
            discussion: """
            Reads the shared database named by store.url of the config (or $\(StoreSettings.databaseURLVariable)). \
            A node's lag is how long ago it last renewed its leases; a lease that is past its expiry \
            is marked lapsed: its node is gone, and the next client or queued message of the \
            session moves it to another node.
            """
        )

        @OptionGroup var options: ConfigOption

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let config = try options.load()
            guard config.store.kind == .postgres, let url = config.store.url else {
                throw CLIError("cluster status needs a PostgreSQL store: set \"store\": {\"kind\": \"postgres\", \"url\": …} in the config (or $\(StoreSettings.databaseURLVariable)).")
            }
            let store: PostgresSessionStore
            do {
                store = try await PostgresSessionStore.open(url, options: .init(poolSize: 1))
            } catch let error as SessionStoreError {
                throw CLIError(error.message)
            }
            let backplane = PostgresBackplane(store: store)
            let nodes: [ClusterNodeRecord]
            let leases: [SessionLease]
            do {
                nodes = try await backplane.nodes()
                leases = try await backplane.leases()
            } catch {
                await store.close()
                throw CLIError("\(error)")
            }
            await store.close()
            if json {
                print(Self.report(nodes: nodes, leases: leases).jsonText)
            } else {
                print(Self.table(nodes: nodes, leases: leases), terminator: "")
            }
        }

        static func report(nodes: [ClusterNodeRecord], leases: [SessionLease]) -> JSONValue {
            let nodeList: [JSONValue] = nodes.map { node in
                let held = leases.filter { $0.owner == node.nodeId && !$0.expired }.count
                let fields: [String: JSONValue] = [
                    "nodeId": .string(node.nodeId), "advertise": node.advertise.map(JSONValue.string) ?? .null,
                    "liveSessions": .int(node.liveSessions), "lagMs": .int(Int(node.heartbeatAge)), "leases": .int(held),
                ]
                return .object(fields)
            }
            let leaseList: [JSONValue] = leases.map { lease in
                let fields: [String: JSONValue] = [
                    "sessionId": .string(lease.sessionId), "owner": .string(lease.owner),
                    "epoch": .int(Int(lease.epoch)), "lapsed": .bool(lease.expired),
                ]
                return .object(fields)
            }
            return .object(["nodes": .array(nodeList), "leases": .array(leaseList)])
        }

        static func table(nodes: [ClusterNodeRecord], leases: [SessionLease]) -> String {
            var out = "NODE                 SESSIONS  LEASES  LAG       ADDRESS\n"
            if nodes.isEmpty { out += "(no node has joined)\n" }
            for node in nodes {
                let held = leases.filter { $0.owner == node.nodeId && !$0.expired }.count
                out += pad(node.nodeId, 21) + pad(String(node.liveSessions), 10) + pad(String(held), 8)
                    + pad(lag(node.heartbeatAge), 10) + (node.advertise ?? "-") + "\n"
            }
            out += "\nSESSION                                   OWNER                EPOCH  STATE\n"
            if leases.isEmpty { out += "(no leases)\n" }
            for lease in leases {
                out += pad(lease.sessionId, 42) + pad(lease.owner, 21) + pad(String(lease.epoch), 7) + (lease.expired ? "lapsed" : "held") + "\n"
            }
            return out
        }

        static func lag(_ ms: Int64) -> String {
            ms < 10_000 ? "\(ms) ms" : "\(ms / 1000) s"
        }

        static func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }
}
