"""The CP-SAT engine (OR-Tools): global numeric constraints, enumeration under them, and
minimal conflicts with assumptions. Import its modules only where they are used: importing
them imports ``ortools``."""
