import ArgumentParser
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// `nzila doctor`: reads the deployment and prints each problem with its fix (`Doctor`); exit 1 on any error.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check a deployment (PostgreSQL, PgBouncer, roles, forced RLS on every tenant table, drift, clock) and say how to fix what is wrong.")
    @OptionGroup var state: StateOptions
    @Flag(help: "Skip the drift comparison (it builds a reference schema, a few seconds).") var skipDrift = false

    func run() async throws {
        let findings = try await Runtime.withOwner(state: state.state) { runtime, owner in
            try await Self.examine(runtime: runtime, owner: owner, drift: !skipDrift)
        }
        for finding in findings { print(finding) }
        let errors = findings.filter { $0.severity == .error }.count
        print(findings.isEmpty ? "ok: nothing wrong found" : "\(errors) error(s), \(findings.count - errors) warning(s)")
        if errors > 0 { throw ExitCode(1) }
    }

    static func examine(runtime: Runtime, owner: PostgresClient, drift: Bool) async throws -> [Doctor.Finding] {
        let logger = runtime.logger
        var findings = try await Doctor.examineDatabase(owner, logger: logger)
        let bouncer = runtime.bouncerURL
        findings += Doctor.pgbouncer(host: bouncer.host, port: bouncer.port, user: runtime.directURL.user, password: runtime.directURL.password)
        findings += Doctor.transport([("NZILA_DIRECT_URL", runtime.directURL), ("NZILA_PGBOUNCER_URL", bouncer), ("NZILA_LISTEN_URL", runtime.changeFeedURL)])
        findings += Doctor.keys(runtime.keys, platformKey: try await PlatformKey.exists(owner, logger: logger))
        if drift {
            let (_, drifted) = try await DriftCheck(migrator: Migrator(catalog: runtime.catalog, logger: logger), logger: logger).check(client: owner)
            for tenant in Set(drifted.map(\.tenant)).sorted() {
                let first = drifted.first { $0.tenant == tenant }!
                findings.append(Doctor.Finding(.error, "drift", "\(tenant) differs from the migrations (\(drifted.filter { $0.tenant == tenant }.count) objects; first: \(first))",
                                               fix: "nzila migrate drift --only \(tenant) lists them; restore the schema from the migrations or re-import the tenant"))
            }
        }
        return findings
    }
}
