/// Finds the image reference an error message talks about, so a remedy can
/// name it: kubelet writes `Container image "optio-node:latest" is not
/// present with pull policy of Never`, docker writes `Unable to find image
/// 'agent:latest' locally`.
enum ImageReferenceScanner {
    static func firstReference(in message: String) -> String? {
        for quote in ["\"", "'"] as [Character] {
            let parts = message.split(separator: quote, omittingEmptySubsequences: false)
            // Odd-indexed parts are the quoted ones.
            for (index, part) in parts.enumerated() where index % 2 == 1 && looksLikeImageReference(part) {
                return String(part)
            }
        }
        return nil
    }

    static func looksLikeImageReference(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 255, let first = text.first, first.isLetter || first.isNumber else {
            return false
        }
        let allowed = text.allSatisfy { $0.isLetter || $0.isNumber || "._-/:@".contains($0) }
        return allowed && (text.contains(":") || text.contains("/"))
    }
}
