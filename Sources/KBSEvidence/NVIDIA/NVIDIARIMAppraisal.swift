import KBSClaims

/// Compares an SPDM report's measurement blocks with the golden values of the RIMs that describe it.
enum NVIDIARIMAppraisal {
    /// NVDEC0 status meaning "NVDEC0 disabled": measurement index 35 is then not comparable (NVIDIA's verifiers
    /// skip it too).
    static let nvdec0Disabled: UInt8 = 0x55
    static let nvdec0Index = 35

    /// Checks every active RIM measurement against block `index + 1`; returns how many indices were compared.
    ///
    /// The driver and VBIOS RIMs cover disjoint indices; an index active in two RIMs is a `collateral` error. A
    /// missing block, a size that differs, or a value none of the alternatives match is a `measurement` error.
    static func appraise(
        _ blocks: [SPDMMeasurementReport.Block], rims: [NVIDIARIM], nvdec0Status: UInt8?, what: String
    ) throws(EvidenceError) -> Int {
        var golden: [Int: (NVIDIARIM.Measurement, String)] = [:]
        for rim in rims {
            for measurement in rim.activeMeasurements {
                if let other = golden[measurement.index] {
                    throw EvidenceError(
                        .collateral, "\(what): RIMs \(other.1) and \(rim.version) both set measurement index \(measurement.index)")
                }
                golden[measurement.index] = (measurement, rim.version)
            }
        }
        var byIndex: [Int: SPDMMeasurementReport.Block] = [:]
        for block in blocks { byIndex[block.index] = block }
        var compared = 0
        for index in golden.keys.sorted() {
            guard let (measurement, version) = golden[index] else { continue }
            if index == nvdec0Index, nvdec0Status == nvdec0Disabled { continue }
            guard let block = byIndex[index + 1] else {
                throw EvidenceError(.measurement, "\(what): RIM \(version) sets index \(index) but the report has no block \(index + 1)")
            }
            guard block.value.count == measurement.size else {
                throw EvidenceError(
                    .measurement, "\(what): measurement index \(index) is \(block.value.count) bytes, RIM \(version) says \(measurement.size)")
            }
            guard measurement.alternatives.contains(block.value) else {
                throw EvidenceError(
                    .measurement,
                    "\(what): measurement index \(index) is \(Hex.encode(block.value)), which none of RIM \(version)'s \(measurement.alternatives.count) values match"
                )
            }
            compared += 1
        }
        return compared
    }
}
