"""Pure grading: score sheets and answer keys as data, ``grade(submission, sheet) -> ScoreReport`` (docs/grading.md)."""
from .grade import grade
from .practical import PracticalSubmission
from .regrade import regrade_diff
from .sheet import ScoreSheet, SheetError, sheet_from_dict, sheet_from_task
from .theory import AnswerKey, TheorySubmission, answer_key_from_dict, score_attempts

__all__ = ["AnswerKey", "PracticalSubmission", "ScoreSheet", "SheetError", "TheorySubmission",
           "answer_key_from_dict", "grade", "regrade_diff", "score_attempts", "sheet_from_dict", "sheet_from_task"]
