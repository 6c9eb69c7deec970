import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every string the pages show comes from these files; a key or placeholder missing in one
// language shows a raw key or a half-filled sentence to that language's users.
const I18N = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/src/i18n');
type Messages = { [key: string]: string | Messages };
const load = (name: string) => JSON.parse(readFileSync(path.join(I18N, name), 'utf8')) as Messages;

function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    if (typeof value === 'string') out.set(prefix + key, value);
    else for (const [k, v] of flatten(value, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

/** i18next plural forms: Chinese has only `_other`, English `_one` and `_other`. */
const PLURAL = /_(zero|one|two|few|many|other)$/;
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();

describe('web message files', () => {
  const en = flatten(load('en.json'));
  const zh = flatten(load('zh-CN.json'));

  it('give every English key a Chinese message (plural forms as Chinese has them)', () => {
    const missing = [...en.keys()].filter((key) => !zh.has(key) && !(PLURAL.test(key) && zh.has(key.replace(PLURAL, '_other'))));
    expect(missing).toEqual([]);
    expect(en.size).toBeGreaterThan(100);
  });

  it('have no Chinese key that English lacks', () => {
    const extra = [...zh.keys()].filter((key) => !en.has(key) && !(PLURAL.test(key) && en.has(key.replace(PLURAL, '_other'))));
    expect(extra).toEqual([]);
  });

  it('fill the same placeholders in both languages', () => {
    const mismatched = [...zh].filter(([key, text]) => {
      const english = en.get(key) ?? en.get(key.replace(PLURAL, '_other'));
      return english !== undefined && placeholders(english).join() !== placeholders(text).join();
    });
    expect(mismatched).toEqual([]);
  });

  it('leave no message empty', () => {
    expect([...en, ...zh].filter(([, text]) => text.trim() === '').map(([key]) => key)).toEqual([]);
  });
});
