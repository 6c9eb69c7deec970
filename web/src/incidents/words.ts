import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { useProblemText } from '../ui/status';
import type { IncidentView, NotificationView } from './queries';

/** What the pages send to the API about an incident: the refusals of each are worded in its own terms. */
export type IncidentAction = 'declare' | 'team' | 'contain' | 'notify' | 'signOff' | 'trace' | 'report' | 'evidence' | 'read';

/**
 * A refusal as a sentence about incidents: the action's own wording of the reason, then the
 * incidents' wording, then the general one.
 */
export function useIncidentProblemText(action: IncidentAction): (error: unknown) => string {
  const { t, i18n } = useTranslation();
  const general = useProblemText();
  return (error: unknown) => {
    const code = error instanceof ApiError ? error.code : undefined;
    if (code) {
      for (const key of [`incidents.problems.${action}.${code}`, `incidents.problems.${code}`]) if (i18n.exists(key)) return t(key);
    }
    return general(error);
  };
}

/** Where an incident came from: declared by a person, or opened by a break-glass that ended unjustified or unreviewed. */
export function useIncidentOrigin(): (incident: Pick<IncidentView, 'origin'>) => string {
  const { t, i18n } = useTranslation();
  return ({ origin }) => {
    if (origin.kind === 'declared') return t('incidents.origin.declared');
    const outcome = `breakGlass.retroStatus.${origin.outcome}`;
    return t('incidents.origin.breakGlass', { outcome: i18n.exists(outcome) ? t(outcome) : origin.outcome });
  };
}

/**
 * An incident's title and description in the page's language. A person's words stay as they
 * wrote them; an incident a break-glass opened by itself is described from its origin, since
 * the workflow that opened it has no language of its own. Its scope is not used: a traced
 * leak adds users to it, and none of them broke the glass.
 */
export function useIncidentWording(): (incident: Pick<IncidentView, 'origin' | 'title' | 'description' | 'declaredBy'>) => {
  title: string;
  description: string;
  declaredBy: string;
} {
  const { t, i18n } = useTranslation();
  return ({ origin, title, description, declaredBy }) => {
    if (origin.kind === 'declared') return { title, description, declaredBy };
    const outcome = `incidents.breakGlassOpened.outcomes.${origin.outcome}`;
    // An outcome these pages do not know keeps the workflow's own words.
    if (!i18n.exists(outcome)) return { title, description, declaredBy };
    const words = { request: origin.accessRequestId, outcome: t(outcome) };
    return {
      title: t('incidents.breakGlassOpened.title', words),
      description: t('incidents.breakGlassOpened.description', words),
      declaredBy: t('incidents.breakGlassOpened.declaredBy'),
    };
  };
}

/** A notification's recipient in words: an address as it is, a patient reached by the hospital's own service by id. */
export function useRecipient(): (notification: Pick<NotificationView, 'recipient'>) => string {
  const { t } = useTranslation();
  return ({ recipient }) => (recipient.startsWith('patient:') ? t('incidents.notifications.patient', { id: recipient.slice('patient:'.length) }) : recipient);
}

/** The report's language for the page's: the API renders English and Chinese. */
export function useReportLanguage(): 'en' | 'zh' {
  const { i18n } = useTranslation();
  return (i18n.resolvedLanguage ?? i18n.language).startsWith('zh') ? 'zh' : 'en';
}
