// floe's audits of a branch (write-audit-publish): the check file, the run, the report.
export { CHECK_TYPES, loadAuditChecks, parseAuditChecks, type AuditCheck, type AuditChecks, type CheckBase, type CheckLiteral, type CheckScope, type CheckSeverity, type CheckType } from './audit-checks.ts';
export { runAudit, validateAuditChecks, type AuditOptions, type AuditReport, type CheckResult } from './run-audit.ts';
export { auditRecordOf, auditReportJson, formatAuditReport, recordAuditResult } from './audit-report.ts';
