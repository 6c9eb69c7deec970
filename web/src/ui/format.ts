import { useTranslation } from 'react-i18next';

// Dates and durations in the user's language and time zone, through Intl only.

/**
 * The browser's own locale when it is a variant of the chosen language (en-GB for English
 * keeps day-month order), else the chosen language. The time zone is always the browser's.
 */
export function formattingLocale(language: string): string {
  const base = language.split('-')[0]!.toLowerCase();
  const preferred = (navigator.languages ?? [navigator.language]).find((tag) => tag.split('-')[0]!.toLowerCase() === base);
  return preferred ?? language;
}

export function useFormat() {
  const { i18n } = useTranslation();
  const locale = formattingLocale(i18n.resolvedLanguage ?? i18n.language);
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  return {
    dateTime: (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : ''),
    /** "in 12 minutes", "3 hours ago". */
    relative: (iso: string, now: number) => {
      const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return relative.format(seconds, 'second');
      if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
      if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
      return relative.format(Math.round(seconds / 86400), 'day');
    },
    /** A countdown such as 1:04:09 or 4:09. */
    countdown: (ms: number) => {
      const total = Math.max(0, Math.floor(ms / 1000));
      const h = Math.floor(total / 3600);
      const m = Math.floor((total % 3600) / 60);
      const s = total % 60;
      const two = (n: number) => String(n).padStart(2, '0');
      return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
    },
    number: (n: number) => new Intl.NumberFormat(locale).format(n),
    /** "a, b and c" / "a、b和c". */
    list: (items: string[]) => new Intl.ListFormat(locale, { type: 'conjunction' }).format(items),
  };
}

/** A datetime-local field's value (the user's own time zone) as an ISO instant, or undefined. */
export function localInputToIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
