// Where the gateway's visible band sits on a rendered image, stated once: the gateway burns
// it in there, and the leak tracer leaves it out when it compares what leaked with the PACS's
// rendering. The rest of the image, above the band, is the image area that carries the mark.

/** The band names the viewer and grant on one line and the time on the next. */
export const BAND_LINES = 2;

export interface BandGeometry {
  fontSize: number;
  /** Rows of the band, at the bottom of the image. */
  height: number;
}

/** The band's font size and height on a `width` × `height` rendering. */
export function bandGeometry(width: number, height: number, lines = BAND_LINES): BandGeometry {
  const fontSize = Math.max(8, Math.round(Math.min(width, height) / 22));
  return { fontSize, height: Math.min(height, Math.round(fontSize * 1.35 * lines + fontSize * 0.6)) };
}

/** Rows above the band: the image area, which the serving mark and the perceptual hash cover. */
export function imageAreaHeight(width: number, height: number): number {
  return height - bandGeometry(width, height).height;
}
