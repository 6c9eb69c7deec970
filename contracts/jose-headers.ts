// Header parameters that let a JWT name or carry its own key (or demand extensions we do not
// implement). Every token this system checks, PACS tokens and principal assertions alike,
// is refused with any of them before a key is looked up.
export const SELF_KEYED_HEADERS: readonly string[] = Object.freeze(['jwk', 'jku', 'x5u', 'x5c', 'crit']);
