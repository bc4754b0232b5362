"""nbgrader configuration for the course's assignments (https://nbgrader.readthedocs.io).

``python -m helpers.student COURSE --nbgrader`` writes one assignment per day in ``COURSE/source/`` and
copies this file to ``COURSE/``; run nbgrader there (see book/instructors.md):

    nbgrader generate_assignment day03      # release/day03/: solutions replaced by NotImplementedError
    nbgrader autograde day03                # grades submitted/<student>/day03/
"""

import os

c = get_config()  # noqa: F821 (defined by nbgrader when it loads this file)

# Grade under the `ci` profile: offline, on CPU, with the small data the committed outputs use, so a
# whole notebook runs in about a minute and every student gets the same data. Set COURSE_PROFILE before
# running nbgrader to grade under another profile (then raise the timeout below).
os.environ.setdefault("COURSE_PROFILE", "ci")
if os.environ["COURSE_PROFILE"] == "ci":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Seconds per cell. nbgrader's default (30 s) kills the first cells: importing torch and the day's first
# `setup(...)` take longer than that on a busy machine. The slowest `ci` cell takes well under 120 s.
c.Execute.timeout = 600
# A kernel that is slow to start (cold disk cache, many graders at once) is not a failed submission.
c.Execute.startup_timeout = 180

# What replaces each `### BEGIN SOLUTION ... ### END SOLUTION` block in the student version: the same
# stub as the course's own student copies (helpers/student.py).
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("Exercise: replace this line with your solution.")',
}

# Each exercise's checker cell (the locked "autograder tests" cell after the answer) is graded.
c.ClearSolutions.enforce_metadata = True
