"""IncludeFile: the content of a local file, read where the run starts (text and binary)."""

from flowc import FlowSpec, IncludeFile, step


class IncludeFlow(FlowSpec):
    notes = IncludeFile("notes", help="a text file", required=True)
    blob = IncludeFile("blob", is_text=False, help="a binary file")

    @step
    def start(self):
        self.notes_length = len(self.notes)
        self.next(self.end)

    @step
    def end(self):
        self.seen_notes = self.notes
        self.seen_blob = self.blob


if __name__ == "__main__":
    IncludeFlow()
