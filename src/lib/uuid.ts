const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Exactly the 36 characters of a UUID (any version), in either case. */
export const isUuid = (value: string): boolean => UUID.test(value);
