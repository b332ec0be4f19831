"""cloudctl: a school's register of online services, risk assessments, pupils and parents' consent."""

__version__ = "0.1.0"
