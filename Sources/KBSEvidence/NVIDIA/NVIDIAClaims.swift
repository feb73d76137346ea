import KBSClaims

/// The `nvidia` claim record: one record per device plus the first device's architecture.
enum NVIDIAClaims {
    static let deviceRecord = RecordType(fields: [
        .init(
            "arch", .string,
            doc:
                "HOPPER, BLACKWELL, LS10 or UNKNOWN, from the signed leaf certificate's name (GH…, GB…, LS_10…); an `arch` in the evidence must agree"
        ),
        .init("uuid", .string, optional: true, doc: "the device UUID the evidence names (Trustee JSON; not signed)"),
        .init("nonce", .hex, doc: "the 32-byte SPDM request nonce the device signed"),
        .init("certificate", .string, doc: "common name of the device chain's leaf (GH100 A01 GSP FMC LF)"),
        .init("driver_version", .string, optional: true, doc: "opaque type 3 (GPUs)"),
        .init("vbios_version", .string, optional: true, doc: "opaque type 6, as NVIDIA prints it (96.00.9f.00.01)"),
        .init("fwid", .hex, optional: true, doc: "opaque type 20: the firmware ID, equal to the leaf certificate's DICE FWID"),
        .init("fwid_checked", .bool, doc: "whether the report carried an FWID that was compared with the leaf's"),
        .init("measurement_count", .int, doc: "the number of SPDM measurement blocks"),
        .init("measurements", .list(.hex), doc: "measurement values; element i is SPDM block i+1 (RIM index i)"),
        .init("rim_checked", .bool, doc: "whether RIMs matching the device's driver or VBIOS version were compared"),
        .init("rim_versions", .list(.string), doc: "versions of the RIMs compared"),
        .init("rim_indices_checked", .int, doc: "how many active RIM indices matched"),
        .init("debug", .bool, doc: "false only when RIMs for each version the device reports (driver and VBIOS) matched its measurements"),
        .init("nvdec0_status", .int, optional: true, doc: "opaque type 11 (0x55: NVDEC0 disabled)"),
        .init("ppcie_status", .int, optional: true, doc: "opaque type 21: protected PCIe status"),
        .init("project", .string, optional: true, doc: "opaque type 17"),
        .init("project_sku", .string, optional: true, doc: "opaque type 18"),
        .init("project_sku_mod", .hex, optional: true, doc: "opaque type 19"),
        .init("chip_sku", .string, optional: true, doc: "opaque type 15"),
        .init("chip_sku_mod", .string, optional: true, doc: "opaque type 16"),
        .init("board_id", .hex, optional: true, doc: "opaque type 14"),
        .init("gpu_info", .hex, optional: true, doc: "opaque type 4"),
        .init("cpr_info", .hex, optional: true, doc: "opaque type 13"),
        .init("msr_counts", .list(.int), optional: true, doc: "opaque type 12: per-index measurement counts"),
        .init("switch_pdis", .list(.hex), optional: true, doc: "opaque type 22: PDIs of the NVSwitches (8 bytes each)"),
        .init(
            "sys_enable_status", .hex, optional: true, doc: "opaque type 33 (Blackwell), as signed; the tier rules list the values meaning TEE-I/O"),
        .init("opaque_data_version", .hex, optional: true, doc: "opaque type 34"),
        .init("chip_info", .hex, optional: true, doc: "opaque type 35"),
        .init("feature_flag", .hex, optional: true, doc: "opaque type 36"),
    ])

    static let schema = ClaimSchema(
        typeName: "NVIDIAClaims",
        summary: "NVIDIA GPU / NVSwitch SPDM evidence: per-device versions, FWID, measurements and RIM appraisal",
        fields: [
            .init("arch", .string, doc: "the first device's architecture"),
            .init("device_count", .int, doc: "how many devices the evidence holds"),
            .init(
                "rims_configured", .bool, doc: "whether RIMs were among the endorsements (then each device's `rim_checked` says whether one applied)"),
            .init("devices", .list(.record(deviceRecord)), doc: "one record per device, in evidence order"),
        ])

    static func device(
        _ device: NVIDIADeviceEvidence, arch: String, report: SPDMMeasurementReport, leaf: Certificate, fwidChecked: Bool,
        rims: [NVIDIARIM], compared: Int, debug: Bool
    ) -> ClaimRecord {
        let opaque = report.opaque
        var record = ClaimRecord()
        record["arch"] = .string(arch)
        if let uuid = device.uuid { record["uuid"] = .string(uuid) }
        record["nonce"] = .hex(report.requestNonce)
        record["certificate"] = .string(leaf.commonName)
        if let value = opaque.driverVersion { record["driver_version"] = .string(value) }
        if let value = opaque.vbiosVersion { record["vbios_version"] = .string(value) }
        if let value = opaque[.fwid] { record["fwid"] = .hex(value) }
        record["fwid_checked"] = .bool(fwidChecked)
        record["measurement_count"] = .int(Int64(report.blocks.count))
        record["measurements"] = .list(report.blocks.map { .hex($0.value) })
        record["rim_checked"] = .bool(!rims.isEmpty)
        record["rim_versions"] = .list(rims.map { .string($0.version) })
        record["rim_indices_checked"] = .int(Int64(compared))
        record["debug"] = .bool(debug)
        if let value = opaque.byte(.nvdec0Status) { record["nvdec0_status"] = .int(Int64(value)) }
        if let value = opaque.byte(.ppcieStatus) { record["ppcie_status"] = .int(Int64(value)) }
        for (field, name) in [
            (NVIDIAOpaqueData.Field.project, "project"), (.projectSKU, "project_sku"), (.chipSKU, "chip_sku"), (.chipSKUMod, "chip_sku_mod"),
        ] {
            if let value = opaque.text(field) { record[name] = .string(value) }
        }
        for (field, name) in [
            (NVIDIAOpaqueData.Field.projectSKUMod, "project_sku_mod"), (.boardID, "board_id"), (.gpuInfo, "gpu_info"), (.cprInfo, "cpr_info"),
        ] {
            if let value = opaque[field] { record[name] = .hex(value) }
        }
        if let counts = opaque.measurementCounts { record["msr_counts"] = .list(counts.map { .int($0) }) }
        if let pdis = opaque.switchPDIs { record["switch_pdis"] = .list(pdis.map { .hex($0) }) }
        for (field, name) in [
            (NVIDIAOpaqueData.Field.sysEnableStatus, "sys_enable_status"), (.opaqueVersion, "opaque_data_version"), (.chipInfo, "chip_info"),
            (.featureFlag, "feature_flag"),
        ] {
            if let value = opaque[field] { record[name] = .hex(value) }
        }
        return record
    }

    /// The architecture a leaf certificate's name implies (`GH100 A01 GSP FMC LF`, `GB100 …`, `LS_10 …`).
    static func arch(of leaf: Certificate) -> String {
        let name = leaf.commonName
        if name.hasPrefix("GH") { return "HOPPER" }
        if name.hasPrefix("GB") { return "BLACKWELL" }
        if name.hasPrefix("LS_10") || name.hasPrefix("LS10") { return "LS10" }
        return "UNKNOWN"
    }
}
