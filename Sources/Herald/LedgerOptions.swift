import ArgumentParser
import Logging
import PointsLedger

/// Where the ledger lives: a SQLite file (the embedded default) or a PostgreSQL URL.
struct LedgerOptions: ParsableArguments {
    @Option(help: "SQLite file or postgres://user:password@host:port/database (HERALD_DB, default herald.sqlite).")
    var db: String?

    var resolvedDB: String { Environment.string(db, "HERALD_DB") ?? "herald.sqlite" }

    func openLedger(logger: Logger) async throws -> any Ledger {
        let location = resolvedDB
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresLedger.connect(url: location, logger: logger)
        }
        do {
            let ledger = try SQLiteLedger(path: location)
            logger.info("[Ledger] SQLite at \(location)")
            return ledger
        } catch {
            throw NodeError("cannot open the SQLite ledger at \(location): \(error)")
        }
    }
}
