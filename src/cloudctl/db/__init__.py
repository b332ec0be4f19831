"""The database layer: SQLModel models, the engine and the migrations runner."""
