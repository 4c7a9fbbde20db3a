"""The data model: one module per area, every table defined here and nowhere else."""
from .accounts import STAFF_ROLES, LoginThrottle, Role, RoleAssignment, User, UserSession
from .affairs import Duty, ExamPlan, IdType, PlanStation, Registration, SessionStaff
from .audit import AuditEvent, AuditHead
from .bank import (AssembledPaper, Assembly, BankBlueprint, BankItem, BankItemVersion, BankPaperSpec, ItemAnalysis,
                   ItemStatistic, ItemStatus)
from .base import Base, utcnow
from .certificates import (Certificate, CertificateImport, CertificateSerial, PartScore, Result, ResultPart,
                           SigningKey)
from .competitions import (BoardSnapshot, Competition, CompetitionAward, CompetitionEntry, CompetitionRound,
                           CompetitionScoreEvent, Delegation, EntryMember, RevealStepRecord)
from .exams import (AdjustmentKind, Attempt, Exam, ExamPart, ExamSession, IntegrityEvent, IntegrityKind, Pause,
                    Response, RosterEntry, SaveOperation, SealedPaper, SubmitKind, TimeAdjustment)
from .grading import (Appeal, AppealReview, ExaminerFinding, GradingJob, ManualMark, RegradeRun, ScoreOverride,
                      ScoreReport)
from .monitoring import (Announcement, Incident, IncidentCategory, LateStart, MisconductRecord, MisconductTier,
                         SessionReport, SupervisorAnnotation)
from .organisations import (LEVEL_NAMES_ZH, JobType, JobTypeLevel, Level, Occupation, Organisation,
                            OrganisationKind)
from .practical import (PracticalAssignment, PracticalPart, PracticalPartTask, PracticalTask, TaskStatus,
                        TraceEvent)
from .quality import QualityList, QualityListEntry, ResponsibilityAgreement
from .scheduling import (MachineKind, QualificationRole, QualificationScope, Room, SessionSchedule,
                         StaffQualification, TicketCheck)
from .transfer import ReceivedPackage, ResultBundle, SessionPackage, StationNode, TrustedHub

__all__ = [
    "Base", "utcnow", "Organisation", "OrganisationKind", "Occupation", "JobType", "JobTypeLevel", "Level",
    "LEVEL_NAMES_ZH", "User", "Role", "STAFF_ROLES", "RoleAssignment", "UserSession", "LoginThrottle",
    "AuditEvent", "AuditHead", "Exam", "ExamPart", "ExamSession", "RosterEntry", "Attempt", "SubmitKind", "Pause",
    "AdjustmentKind", "TimeAdjustment", "Response", "SaveOperation", "IntegrityKind", "IntegrityEvent", "SealedPaper",
    "ItemStatus", "BankItem", "BankItemVersion", "BankBlueprint", "BankPaperSpec", "Assembly", "AssembledPaper",
    "ItemAnalysis", "ItemStatistic",
    "TaskStatus", "PracticalTask", "PracticalPart", "PracticalPartTask", "PracticalAssignment", "TraceEvent",
    "Announcement", "LateStart", "IncidentCategory", "Incident", "MisconductTier", "MisconductRecord",
    "SupervisorAnnotation", "SessionReport",
    "PartScore", "ResultPart", "Result", "Certificate", "CertificateSerial", "SigningKey", "CertificateImport",
    "Competition", "CompetitionRound", "Delegation", "CompetitionEntry", "EntryMember", "CompetitionScoreEvent",
    "RevealStepRecord", "BoardSnapshot", "CompetitionAward",
    "GradingJob", "ScoreReport", "ManualMark", "ScoreOverride", "ExaminerFinding", "RegradeRun", "Appeal",
    "AppealReview",
    "ExamPlan", "PlanStation", "IdType", "Registration", "Duty", "SessionStaff",
    "StationNode", "SessionPackage", "ResultBundle", "TrustedHub", "ReceivedPackage",
    "QualificationRole", "StaffQualification", "QualificationScope", "MachineKind", "Room", "SessionSchedule",
    "TicketCheck",
    "QualityList", "QualityListEntry", "ResponsibilityAgreement",
]
