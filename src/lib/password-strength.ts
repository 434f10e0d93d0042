import { COMMON_PASSWORDS_FRONT_CODED } from './common-passwords.data.ts';
import { AppError } from './problem.ts';

/*
 * What NIST SP 800-63B (section 3.1.1.2) asks of a new password beyond its length: it must not be one that
 * is commonly used or expected, nor repetitive or sequential characters, nor a context-specific word such
 * as the user's name in their email. Checked on every new password (signup, password change, the CLI).
 */

let common: Set<string> | undefined;

/** The bundled list (common-passwords.data.ts), decoded once per isolate. */
function commonPasswords(): Set<string> {
  if (!common) {
    common = new Set();
    let previous = '';
    for (const line of COMMON_PASSWORDS_FRONT_CODED.split('\n')) {
      previous = previous.slice(0, Number(line[0])) + line.slice(1);
      common.add(previous);
    }
  }
  return common;
}

/** Each character one step above (or each below) the one before: abcdefgh, 87654321. */
function isSequence(text: string): boolean {
  const codes = [...text].map((character) => character.codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  return Math.abs(step) === 1 && codes.every((code, index) => index === 0 || code - codes[index - 1]! === step);
}

/** Why `password` is too weak for the account with `email`, or undefined when it is not. */
export function passwordWeakness(password: string, email: string): string | undefined {
  const lower = password.toLowerCase();
  const localPart = email.toLowerCase().split('@')[0] ?? '';
  if (password.trim() === '') return 'must not be only whitespace';
  if (new Set(lower).size === 1) return 'must not be one character repeated';
  if (isSequence(lower)) return 'must not be a sequence of characters such as abcdefgh or 12345678';
  if (commonPasswords().has(lower)) return 'is one of the most commonly used passwords';
  if (lower === email.toLowerCase() || (localPart.length >= 3 && lower.includes(localPart)) || lower === localPart) {
    return 'must not contain the name of your email address';
  }
  return undefined;
}

/** 422 `password_too_weak`, naming the reason, for the request field `path`. */
export function requireStrongPassword(password: string, email: string, path: string): void {
  const reason = passwordWeakness(password, email);
  if (reason)
    throw new AppError('password_too_weak', `the password is too weak: it ${reason}`, {
      errors: [{ path, message: reason }],
    });
}
