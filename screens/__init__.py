"""The Textual UI of crio-wizard: screens and dialogs that render engine events and send decisions back."""
