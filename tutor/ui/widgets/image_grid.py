"""A grid of small images drawn with half blocks: ``▀`` in the top pixel's colour on the
bottom pixel's colour, two pixel rows per terminal row. Works in any colour terminal."""

from __future__ import annotations

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

UPPER_HALF = "▀"


def scale_image(image, width: int) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Nearest-neighbour resize (up or down) of an event image to ``width`` pixels,
    aspect kept: (width, height, rows of RGB)."""
    width = max(1, width)
    height = max(1, round(image.height * width / image.width))
    channels = 1 if image.mode == "L" else 3
    pixels = image.pixels
    rows = []
    for y in range(height):
        src_y = min(image.height - 1, y * image.height // height)
        row = []
        base = src_y * image.width
        for x in range(width):
            src = (base + min(image.width - 1, x * image.width // width)) * channels
            if channels == 1:
                v = pixels[src] if src < len(pixels) else 0
                row.append((v, v, v))
            else:
                chunk = pixels[src:src + 3]
                row.append(tuple(chunk) if len(chunk) == 3 else (0, 0, 0))  # type: ignore[arg-type]
        rows.append(row)
    return width, height, rows


class ImageGrid(Widget):
    """``live.images``: a titled grid of images with their labels."""

    DEFAULT_CSS = """
    ImageGrid {
        height: auto;
        padding: 0 1;
        margin-top: 1;
    }
    ImageGrid > .image-grid--label { color: $text-muted; }
    ImageGrid > .image-grid--title { text-style: bold; }
    """
    COMPONENT_CLASSES = {"image-grid--label", "image-grid--title"}
    GAP = 1
    # Tiny pictures (a 5x5 letter) are blown up by a whole factor to about this width,
    # and no picture is shrunk below LEGIBLE columns while fewer columns would do.
    UPSCALE_TO = 16
    LEGIBLE = 14

    def __init__(self, title: str | None, images, ncols: int, **kwargs):
        """``images`` are the event's images; at most ``ncols`` per row, fewer when they
        would be too small."""
        super().__init__(**kwargs)
        self.title = title
        self.images = tuple(images)
        self.ncols = max(1, ncols)
        self._strips: list[Strip] = []
        self._built_for = -1

    def show(self, title: str | None, images, ncols: int) -> None:
        """Replace the grid (a new ``live.images`` call of the same cell)."""
        self.title, self.images, self.ncols = title, tuple(images), max(1, ncols)
        self._built_for = -1
        self.refresh(layout=True)

    def _layout(self, width: int) -> tuple[int, int]:
        """(columns, pixel width of one image) that fit ``width`` cells."""
        ncols = max(1, min(self.ncols, len(self.images) or 1))
        widest = max((im.width for im in self.images), default=1)
        wanted = widest * max(1, -(-self.UPSCALE_TO // widest))  # whole-factor upscale
        legible = min(wanted, self.LEGIBLE)
        while ncols > 1 and (width - self.GAP * (ncols - 1)) // ncols < legible:
            ncols -= 1
        cell = max(1, min(wanted, (width - self.GAP * (ncols - 1)) // ncols))
        return ncols, cell

    def _build(self, width: int) -> list[Strip]:
        """The grid's rows at ``width`` (title, image rows, labels), kept until the width or
        the images change."""
        if width == self._built_for:
            return self._strips
        label_style = self.get_component_rich_style("image-grid--label", partial=True)
        title_style = self.get_component_rich_style("image-grid--title", partial=True)
        strips: list[Strip] = []
        if self.title:
            strips.append(Strip([Segment(self.title[:width], title_style)]))
        ncols, cell = self._layout(width)
        styles: dict[tuple, Style] = {}

        def style(top, bottom) -> Style:
            key = (top, bottom)
            if key not in styles:
                styles[key] = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
            return styles[key]

        for start in range(0, len(self.images), ncols):
            row_images = [scale_image(im, cell) for im in self.images[start:start + ncols]]
            term_rows = max((h + 1) // 2 for _, h, _ in row_images)
            for r in range(term_rows):
                segments: list[Segment] = []
                for i, (w, h, rows) in enumerate(row_images):
                    if i:
                        segments.append(Segment(" " * self.GAP))
                    top_y, bottom_y = 2 * r, 2 * r + 1
                    if top_y >= h:
                        segments.append(Segment(" " * w))
                        continue
                    top = rows[top_y]
                    bottom = rows[bottom_y] if bottom_y < h else None
                    for x in range(w):
                        if bottom is None:
                            segments.append(Segment(UPPER_HALF, Style(color=Color.from_rgb(*top[x]))))
                        else:
                            segments.append(Segment(UPPER_HALF, style(top[x], bottom[x])))
                strips.append(Strip(Segment.simplify(segments)))
            labels = [im.label or "" for im in self.images[start:start + ncols]]
            if any(labels):
                text = (" " * self.GAP).join(l[:w].center(w) for l, (w, _, _) in zip(labels, row_images))
                strips.append(Strip([Segment(text, label_style)]))
        self._strips, self._built_for = strips, width
        return strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many rows as the grid takes at ``width``."""
        return len(self._build(width))

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the grid, padded to the width."""
        width = self.scrollable_content_region.width
        strips = self._build(width)
        if y < len(strips):
            return strips[y].crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)
