/// A remedy as a rule writes it, made once into literal pieces and image
/// slots. The image comes from the caller (`FailureReport.image`: the
/// reference the failed operation used), never from the message: a log
/// line's timestamp once read as the tag (issue 13).
///
/// Two forms of slot:
/// - `{image}`: the reference; without one, "the image".
/// - `{image|words}`: the reference; without one, `words` (may be empty).
///
/// Anything else in braces is kept as written; the config loader refuses a
/// remedy with another `{name}` so that no placeholder reaches a caller.
public struct RemedyTemplate: Sendable, Equatable {
    private enum Piece: Sendable, Equatable {
        case text(String)
        case image(fallback: String)
    }

    private let pieces: [Piece]

    /// What a slot without `|words` says when no image is given.
    public static let defaultFallback = "the image"

    public init(_ remedy: String) {
        var pieces: [Piece] = []
        var rest = Substring(remedy)
        while let open = rest.firstRange(of: "{image") {
            let after = rest[open.upperBound...]
            let fallback: Substring
            let end: String.Index
            if after.first == "}" {
                fallback = Substring(Self.defaultFallback)
                end = after.index(after: after.startIndex)
            } else if after.first == "|", let close = after.firstIndex(of: "}") {
                fallback = after[after.index(after: after.startIndex)..<close]
                end = after.index(after: close)
            } else {
                // "{imageX": not a slot; keep it and look further on.
                pieces.append(.text(String(rest[..<open.upperBound])))
                rest = after
                continue
            }
            pieces.append(.text(String(rest[..<open.lowerBound])))
            pieces.append(.image(fallback: String(fallback)))
            rest = rest[end...]
        }
        pieces.append(.text(String(rest)))
        self.pieces = pieces.filter { $0 != .text("") }
    }

    /// The template has a slot to fill.
    public var namesImage: Bool {
        pieces.contains { if case .image = $0 { return true } else { return false } }
    }

    /// The remedy with each slot filled by `image` (nil or empty: the
    /// slot's fallback).
    public func filled(image: String?) -> String {
        let image = image.flatMap { $0.isEmpty ? nil : $0 }
        var text = ""
        for piece in pieces {
            switch piece {
            case .text(let literal): text += literal
            case .image(let fallback): text += image ?? fallback
            }
        }
        return text
    }

    /// The names in braces other than the two slot forms, e.g. "ref" for
    /// "{ref}": what the config loader refuses.
    public static func unknownPlaceholders(in remedy: String) -> [String] {
        var names: [String] = []
        var rest = Substring(remedy)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let inside = after[..<close]
            let name = inside.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if name != "image", !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                names.append(String(name))
            }
            rest = after[after.index(after: close)...]
        }
        return names
    }
}
