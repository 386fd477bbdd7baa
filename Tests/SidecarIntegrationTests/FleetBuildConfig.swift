extension DaemonProcess {
    /// The config of a fleet-mode host that builds "agent" (ref "agent:1")
    /// with `buildScript REF` and publishes it to `registryHost`: the builds'
    /// tests (FleetBuildTests, FleetBuildLinkCutTests) give every host this.
    static func fleetBuildConfig(host: String, postgres: String, registryHost: String, buildScript: String) -> String {
        baseConfig + """
            [images]
            insecure_registries = ["\(registryHost)"]

            [[images.image]]
            name = "agent"
            ref = "agent:1"
            build = ["\(buildScript)", "{ref}"]

            [fleet]
            postgres = "\(postgres)"
            host_id = "\(host)"
            registry = "\(registryHost)/sidecar"
            claim_ttl = "3s"

            """
    }
}
