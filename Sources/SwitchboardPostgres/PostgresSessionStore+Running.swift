import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SwitchboardCore

/// Running statements with deadlines, the connection settings, and errors that name the
/// database (never its password, never a bound value).
extension PostgresSessionStore {
    /// "the PostgreSQL session store at host:port/database", for messages.
    var subject: String { "the PostgreSQL session store at \(url.endpoint)/\(url.database)" }

    /// Runs one statement and decodes every row it returns.
    func rows<T: Sendable>(
        _ action: String, _ sql: String, _ binds: PostgresBindings, _ decode: @escaping @Sendable (PostgresRow) throws -> T
    ) async throws -> [T] {
        let client = self.client, logger = self.logger
        return try await running(action) {
            try await Self.collect(client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger), decode)
        }
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled
    /// back when it throws.
    func transaction<T: Sendable>(
        _ action: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let client = self.client, logger = self.logger
        return try await running(action, timeout: timeout) {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                let result: T
                do {
                    result = try await body(connection, logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
                try await connection.query("COMMIT", logger: logger)
                return result
            }
        }
    }

    /// Reads a whole row sequence.
    static func collect<T>(_ rows: PostgresRowSequence, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in rows { result.append(try decode(row)) }
        return result
    }

    /// Runs `body` within ``Options/operationTimeout``; its failures become
    /// ``SessionStoreError``s naming the database and the action.
    func running<T: Sendable>(_ action: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await Self.withDeadline(timeout ?? options.operationTimeout, body)
        } catch let error as SessionStoreError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let reason = Self.reason(error)
            let code: SessionStoreError.Code = Self.isConnectionFailure(error) ? .unavailable : .writeFailed
            throw SessionStoreError(code, "\(subject.prefix(1).uppercased())\(subject.dropFirst()) could not \(action): \(reason).")
        }
    }

    /// The database did not answer in time.
    struct DeadlinePassed: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no answer within \(timeout) (the database is unreachable or overloaded)" }
    }

    /// Runs `body`, cancelling it when `timeout` passes first.
    static func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: DeadlineOutcome<T>.self) { group in
            group.addTask { .done(try await body()) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .late
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw DeadlinePassed(timeout: timeout) }
            switch first {
            case .done(let value): return value
            case .late: throw DeadlinePassed(timeout: timeout)
            }
        }
    }

    /// Whether `error` means the database could not be reached (rather than refusing a statement).
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if error is DeadlinePassed { return true }
        if let transaction = error as? PostgresTransactionError {
            guard let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError else { return false }
            return isConnectionFailure(inner)
        }
        guard let error = error as? PSQLError else { return error is ChannelError || error is IOError }
        if error.code == .server {
            // Class 08: connection exceptions; 57P01–57P03: the server shutting down or starting.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        }
        return error.code != .queryCancelled && error.code != .tooManyParameters && error.code != .messageDecodingFailure
    }

    /// The reason in an error: the server's message and SQLSTATE, or what failed on the way
    /// to it. Never the statement's bound values or the password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? DeadlinePassed { return error.description }
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError { return reason(inner) }
            return "the transaction failed"
        }
        if let error = error as? PostgresDecodingError {
            return "a stored value has an unexpected type (\(error.code), column '\(error.columnName)')"
        }
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let info = error.serverInfo, let message = info[.message] {
            return "\(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying {
            return "\(error.code): \(underlyingReason(underlying))"
        }
        return "\(error.code)"
    }

    private static func underlyingReason(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? NIOConnectionError {
            let attempts = error.connectionErrors.map { "\($0.target): \(String(describing: $0.error))" }
            if let dns = error.dnsAAAAError ?? error.dnsAError, attempts.isEmpty { return "host name lookup failed (\(dns))" }
            return attempts.isEmpty ? "connection failed" : attempts.joined(separator: "; ")
        }
        return String(describing: error)
    }

    // MARK: - Connecting

    /// The pool's settings for `url`.
    static func clientConfiguration(_ url: DatabaseURL, options: Options) throws(SessionStoreError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch url.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls
        )
        configuration.options.connectTimeout = options.connectTimeout
        configuration.options.maximumConnections = max(1, options.poolSize)
        configuration.options.minimumConnections = 0
        return configuration
    }

    /// Opens one connection and closes it again, within `timeout`.
    /// - Throws: ``SessionStoreError`` (`unavailable`) naming `host:port` and the reason.
    static func probe(_ url: DatabaseURL, timeout: Duration, logger: Logger) async throws {
        do {
            try await withDeadline(timeout) {
                let connection = try await connect(url, timeout: timeout, logger: logger)
                try await connection.close()
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SessionStoreError(.unavailable, "PostgreSQL at \(url.endpoint) (database '\(url.database)', user '\(url.user)') cannot be reached: \(reason(error)).")
        }
    }

    /// One connection of its own, outside the pool (a probe, or a listener that holds it).
    static func connect(_ url: DatabaseURL, timeout: Duration, logger: Logger) async throws -> PostgresConnection {
        var single = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: try connectionTLS(url)
        )
        single.options.connectTimeout = .seconds(max(1, timeout.components.seconds))
        return try await PostgresConnection.connect(configuration: single, id: 0, logger: logger)
    }

    private static func connectionTLS(_ url: DatabaseURL) throws -> PostgresConnection.Configuration.TLS {
        switch url.tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    // MARK: - Health

    /// Healthy while the database answers a trivial query within ``Options/healthTimeout``;
    /// otherwise the problem names the database and the reason, and writes fail with
    /// ``SessionStoreError/Code/unavailable`` until it is back.
    public func health() async -> SessionStoreHealth {
        let client = self.client, logger = self.logger
        do {
            _ = try await Self.withDeadline(options.healthTimeout) {
                try await Self.collect(client.query("SELECT 1", logger: logger)) { _ in true }
            }
            return .healthy
        } catch {
            var why = Self.reason(error)
            if error is DeadlinePassed {
                // The pool only waits; one connection of its own says why.
                do {
                    try await Self.probe(url, timeout: options.healthTimeout, logger: logger)
                } catch let probe as SessionStoreError {
                    why = probe.message
                } catch {}
            }
            return SessionStoreHealth(problem: "\(subject.prefix(1).uppercased())\(subject.dropFirst()) is not answering (\(why)); writes are refused until it is back.")
        }
    }
}

/// What finished first: the work, or its deadline.
private enum DeadlineOutcome<T: Sendable>: Sendable {
    case done(T)
    case late
}
