"""modules.directory: the organisation directory (通讯录). The module class arrives here."""
