/** Typed errors of the case core; each carries a stable `code` for logs and metrics. */
import { CitygridError } from '../../../drivers/sdk/errors.js';

/** A category (kind:code) the catalogue does not list. */
export class UnknownCategoryError extends CitygridError {
  readonly category: string;
  constructor(category: string) {
    super('CASE_UNKNOWN_CATEGORY', `category "${category}" is not in the catalogue`);
    this.category = category;
  }
}

/** A workflow action refused: wrong state, wrong role, or missing data. */
export class TransitionRefusedError extends CitygridError {
  readonly state: string;
  readonly action: string;
  readonly role: string;
  constructor(state: string, action: string, role: string, reason: string) {
    super('CASE_TRANSITION_REFUSED', `cannot ${action} a case in state ${state} as ${role}: ${reason}`);
    this.state = state;
    this.action = action;
    this.role = role;
  }
}

/** A calendar that cannot produce a deadline (no working day within the search horizon). */
export class CalendarError extends CitygridError {
  constructor(message: string) {
    super('CASE_CALENDAR', message);
  }
}

/** A case id the store does not have. */
export class UnknownCaseError extends CitygridError {
  readonly caseId: string;
  constructor(caseId: string) {
    super('CASE_UNKNOWN', `no case "${caseId}"`);
    this.caseId = caseId;
  }
}
