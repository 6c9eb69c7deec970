import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Search attributes are stored in plain text and bypass payload codecs: they carry the
// request's status and the requester's username only, never patient data or study UIDs.
export const accessRequestStatusKey = defineSearchAttributeKey('AccessRequestStatus', SearchAttributeType.KEYWORD);
export const accessRequestRequesterKey = defineSearchAttributeKey('AccessRequestRequester', SearchAttributeType.KEYWORD);

/** For registering them with a dev server: `--search-attribute Name=Type`. */
export const SEARCH_ATTRIBUTES = {
  [accessRequestStatusKey.name]: 'Keyword',
  [accessRequestRequesterKey.name]: 'Keyword',
} as const;
