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
            var table = TextTable("ID", "TARGET", "HOLDER", "EXPIRES")
            for lease in leases { table.add(lease.id, lease.target, lease.holder, lease.expiry) }
            table.print()
        }
    }
}
