import ArgumentParser
import Foundation
import NzilaDatabase

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or apply migrations of the control, reference and tenant schemas.", subcommands: [Status.self, Apply.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List global migrations and tenants behind the latest schema version.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
                for status in try await migrator.globalStatus(owner) {
                    print("\(status.applied ? "applied" : "pending")  \(status.migration.kind.rawValue)/\(status.migration.name)")
                }
                let latest = runtime.catalog.latestTenantVersion
                let tenants = try await migrator.tenantVersions(owner)
                let behind = tenants.filter { $0.version < latest }
                print("tenants: \(tenants.count), at latest version \(latest): \(tenants.count - behind.count), behind: \(behind.count)")
                for tenant in behind { print("behind   \(tenant.slug) at version \(tenant.version)") }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending global migrations, then bring every tenant schema up to date.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
                for migration in try await migrator.applyGlobal(owner) { print("applied  \(migration.kind.rawValue)/\(migration.name)") }
                let upgraded = try await migrator.applyTenants(owner)
                print("tenant schemas upgraded: \(upgraded.count)")
            }
        }
    }
}
