/// A grid of images, each with a caption below it and an optional colored frame.
///
/// Images are enlarged with nearest-neighbour scaling so 32x32 inputs stay crisp.
public struct ImageGrid: Figure {
    /// One image and its caption; `frame` outlines it (for example red for a wrong class).
    public struct Tile {
        public var pixels: [UInt8]
        public var width: Int
        public var height: Int
        public var caption: String
        public var frame: Color?

        public init(pixels: [UInt8], width: Int, height: Int, caption: String, frame: Color? = nil) {
            self.pixels = pixels
            self.width = width
            self.height = height
            self.caption = caption
            self.frame = frame
        }
    }

    public var title: String
    public var tiles: [Tile]
    public var columns: Int
    /// The side of each image in points.
    public var tileSide: Double
    /// Lines of caption text under each tile.
    public var captionLines: Int

    public init(title: String, tiles: [Tile], columns: Int, tileSide: Double = 112, captionLines: Int = 1) {
        precondition(columns > 0, "a grid needs at least one column")
        self.title = title
        self.tiles = tiles
        self.columns = columns
        self.tileSide = tileSide
        self.captionLines = captionLines
    }

    private var rows: Int { (tiles.count + columns - 1) / columns }
    private var cellWidth: Double { tileSide + 16 }
    private var cellHeight: Double { tileSide + 8 + Double(captionLines) * 13 + 8 }

    public var size: (width: Double, height: Double) {
        (max(Double(columns) * cellWidth + 32, 360), Double(rows) * cellHeight + 60)
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let left = (canvas.width - Double(columns) * cellWidth) / 2
        for (i, tile) in tiles.enumerated() {
            let x = left + Double(i % columns) * cellWidth + 8
            let y = 44 + Double(i / columns) * cellHeight
            canvas.image(pixels: tile.pixels, width: tile.width, height: tile.height, x: x, y: y, side: tileSide)
            if let frame = tile.frame {
                canvas.stroke(x: x - 2, y: y - 2, width: tileSide + 4, height: tileSide + 4, frame, lineWidth: 3)
            }
            for (j, line) in tile.caption.split(separator: "\n").prefix(captionLines).enumerated() {
                canvas.text(
                    String(line), x: x + tileSide / 2, y: y + tileSide + 16 + Double(j) * 13, size: 10, align: .center,
                    color: tile.frame ?? .black)
            }
        }
    }
}
