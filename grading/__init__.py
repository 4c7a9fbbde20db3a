"""Pure grading functions: grade(trace or responses, score sheet) -> explainable result. No web, no database."""
