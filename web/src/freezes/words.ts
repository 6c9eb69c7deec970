import { useTranslation } from 'react-i18next';
import type { FreezeScope } from '../../../domain/freeze';
import { ApiError } from '../api/client';
import { useDepartmentName } from '../ui/department';
import { useProblemText } from '../ui/status';

/** What the page sends to the API: the refusals of each are worded in its own terms. */
export type FreezeAction = 'impose' | 'requestLift' | 'decideLift';

/**
 * A refusal as a sentence about freezes: the action's own wording of the reason, then the
 * freezes' wording, then the general one ("You cannot review your own request" would be wrong here).
 */
export function useFreezeProblemText(action: FreezeAction): (error: unknown) => string {
  const { t, i18n } = useTranslation();
  const general = useProblemText();
  return (error: unknown) => {
    const code = error instanceof ApiError ? error.code : undefined;
    if (code) {
      for (const key of [`freezes.problems.${action}.${code}`, `freezes.problems.${code}`]) if (i18n.exists(key)) return t(key);
    }
    return general(error);
  };
}

/** What a freeze stops, in words: "User clin.alice", "Department Radiology", "All access". */
export function useFreezeTarget(): (freeze: { scope: FreezeScope; value: string | null }) => string {
  const { t } = useTranslation();
  const department = useDepartmentName();
  return ({ scope, value }) => {
    if (scope === 'all') return t('freezes.target.all');
    const shown = value === null ? '—' : scope === 'department' ? department(value) : value;
    return t(`freezes.target.${scope}`, { value: shown });
  };
}
