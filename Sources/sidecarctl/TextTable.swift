import Foundation

/// Rows printed in columns as wide as their widest cell, two spaces apart.
/// A cell is one line: text after its first line break is cut (with "…"),
/// and so is text past `maxCellWidth`; `--json` has every whole value.
struct TextTable {
    static let maxCellWidth = 100

    let header: [String]
    private(set) var rows: [[String]] = []

    init(_ header: String...) {
        self.header = header
    }

    mutating func add(_ cells: String...) {
        rows.append(cells.map(Self.oneLine))
    }

    /// The lines, the last column not padded.
    var lines: [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    func print() {
        for line in lines { Output.line(line) }
    }

    static func oneLine(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var line = String(trimmed.prefix { $0 != "\n" && $0 != "\r" })
        var cut = line.count < trimmed.count
        if line.count > maxCellWidth {
            line = String(line.prefix(maxCellWidth - 1))
            cut = true
        }
        return cut ? line + "…" : line
    }
}
