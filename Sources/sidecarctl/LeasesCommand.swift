import ArgumentParser

struct LeasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases", abstract: "List the leases held now.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let leases = try await client.listLeases(timeout: global.callTimeout)
            if global.json {
                Output.json(["leases": leases.map(\.jsonObject)])
                return
            }
            if leases.isEmpty {
                Output.line("no leases")
                return
            }
            Output.line("ID\tTARGET\tHOLDER\tEXPIRES")
            for lease in leases {
                Output.line("\(lease.id)\t\(lease.target)\t\(lease.holder)\t\(lease.expiry)")
            }
        }
    }
}
