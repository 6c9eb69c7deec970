// Text placed in XML by this product (DICOM audit messages, the watermark's SVG) comes from
// people: user names, reasons, addresses. Escaped for element content and for attribute
// values in either kind of quotes.

const ENTITIES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ENTITIES[c]!);
}
