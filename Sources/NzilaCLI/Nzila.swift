import ArgumentParser
import NzilaCore

/// The one `nzila` executable: both servers, the embedded dev stack and the operator commands.
@main
struct Nzila: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nzila",
        abstract: "The Nzila platform: control plane, data plane and operator tools.",
        subcommands: [Dev.self, ControlPlaneCommand.self, DataPlaneCommand.self, Migrate.self, Tenants.self, Keys.self, Admins.self, Reference.self, PartnersCommand.self, ComplianceCommand.self, TradingCommand.self, DoctorCommand.self])
}

/// Where the state folder is; servers and tools read database URLs and the master key from it when
/// the environment does not give them.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: "State folder of the embedded stack (env NZILA_STATE).")
    var state: String = Env().string("NZILA_STATE", default: ".nzila")
}
