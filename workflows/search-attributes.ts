// Search attributes are stored in plain text and bypass payload codecs: they carry the
// request's status and the requester's username only, never patient data or study UIDs.
export const SEARCH_ATTRIBUTES = {
  AccessRequestStatus: 'Keyword',
  AccessRequestRequester: 'Keyword',
} as const;
