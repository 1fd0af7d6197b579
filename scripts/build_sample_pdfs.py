#!/usr/bin/env python3
"""Build the sample PDF documents of the rag-oracle demonstration corpus.

The source text of every PDF lives in this file (``DOCUMENTS`` below). Running
the script writes ``corpus/pdf/<slug>.pdf`` for each entry, using fpdf2 with the
core Helvetica font. Output is deterministic: the creation date and producer are
fixed, so rerunning the script produces byte-identical files.

All text is original sample text written for the rag-oracle demonstration
corpus. It is not clinical guidance.

Usage:
    python scripts/build_sample_pdfs.py            # write corpus/pdf/*.pdf
    python scripts/build_sample_pdfs.py --verify   # also check text extraction with pypdf
    python scripts/build_sample_pdfs.py --out DIR  # write somewhere else

Requires: fpdf2 (and pypdf for --verify).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "corpus" / "pdf"
CREATION_DATE = datetime(2026, 1, 1, tzinfo=UTC)
NOTE = "Sample text written for the rag-oracle demonstration corpus; not clinical guidance."

# ---------------------------------------------------------------------------
# Source text. Keep it latin-1 (plain ASCII preferred): no unicode dashes,
# no ">=" symbols, no micro signs. Each section may start a new page
# ("new_page": True), and may contain paragraphs, bullets and a table.
# ---------------------------------------------------------------------------

DOCUMENTS = [
    {
        "slug": "benzodiazepine-equivalence-and-switching",
        "title": "Benzodiazepine Equivalence and Switching: A Sample Clinical Reference",
        "author": "Sample Pharmacy and Therapeutics Committee",
        "subject": "Approximate benzodiazepine dose equivalence, switching between agents, and tapering",
        "keywords": "benzodiazepine, lorazepam, diazepam, clonazepam, alprazolam, equivalence, switching, taper",
        "byline": "Sample clinical reference, 2022. Prepared for the rag-oracle demonstration corpus.",
        "sections": [
            {
                "heading": "Purpose",
                "paragraphs": [
                    "This reference supports clinicians who need to convert a patient from one benzodiazepine to another, most often to make a gradual taper easier. It gives approximate oral dose equivalents, a step-by-step switching method, and practical advice for the taper that usually follows.",
                    "Common reasons to switch include frequent inter-dose withdrawal symptoms with a short-acting agent (for example alprazolam or lorazepam), the need for tablet strengths that allow small dose reductions, and simplification of regimens that combine two benzodiazepines.",
                ],
            },
            {
                "heading": "Why equivalence figures are approximate",
                "paragraphs": [
                    "Published equivalence tables were derived from small pharmacological studies and clinical experience, and they disagree with one another, sometimes by a factor of two. Individual patients differ in absorption, metabolism, age, liver function and tolerance. The figures below are therefore a starting point for dosing, not an exact conversion, and every switch should be followed by clinical review.",
                    "Half-life matters as much as potency. Diazepam and chlordiazepoxide have active metabolites that persist for days, so their effects accumulate over 1 to 2 weeks, especially in older adults. Lorazepam, oxazepam and temazepam have no active metabolites and are less affected by liver disease.",
                ],
            },
            {
                "heading": "Approximate oral equivalents",
                "paragraphs": [
                    "The following doses are commonly treated as roughly equivalent to diazepam 10 mg:",
                ],
                "table": {
                    "header": ["Drug", "Approximate equivalent dose", "Elimination half-life (hours)"],
                    "rows": [
                        ["Diazepam", "10 mg", "20 to 100 (with active metabolite)"],
                        ["Lorazepam", "1 mg", "10 to 20"],
                        ["Clonazepam", "0.5 mg", "30 to 40"],
                        ["Alprazolam", "0.5 mg", "6 to 12"],
                        ["Chlordiazepoxide", "25 mg", "5 to 30 (with long-acting metabolites)"],
                        ["Oxazepam", "20 to 30 mg", "5 to 15"],
                        ["Temazepam", "20 mg", "8 to 20"],
                    ],
                },
                "after": [
                    "Some tables list lorazepam 0.5 mg or clonazepam 0.25 mg as equivalent to diazepam 5 mg, which gives the same ratios; others give lorazepam 2 mg for diazepam 10 mg. When tables disagree, choose the more conservative (lower) target dose for the new drug and adjust according to symptoms.",
                ],
            },
            {
                "heading": "How to switch",
                "new_page": True,
                "paragraphs": [
                    "Switch one dose at a time rather than all at once. A typical approach replaces one daily dose of the original drug with the equivalent dose of the new drug every 2 to 7 days, starting with the evening dose, until the switch is complete. This usually takes 1 to 3 weeks. Hold the total equivalent dose steady during the switch; the taper begins only once the patient is stable on the new drug.",
                    "Worked example 1 (lorazepam to diazepam). A patient takes lorazepam 1 mg three times daily (3 mg/day), which is roughly equivalent to diazepam 30 mg/day. Week 1: replace the evening lorazepam 1 mg with diazepam 10 mg. Week 2: replace the midday dose. Week 3: replace the morning dose, giving diazepam 10 mg three times daily. Because diazepam accumulates, many clinicians aim slightly lower (for example 20 to 25 mg/day) in older adults and then adjust.",
                    "Worked example 2 (alprazolam to clonazepam). A patient takes alprazolam 0.5 mg four times daily (2 mg/day), roughly equivalent to clonazepam 2 mg/day. Replace alprazolam doses stepwise with clonazepam given twice daily, for example 1 mg twice daily at the end of the switch. Patients switching from alprazolam sometimes notice breakthrough anxiety in the first week; a small temporary adjustment is reasonable.",
                ],
            },
            {
                "heading": "Choosing the target drug",
                "bullets": [
                    "Diazepam: long half-life and 2 mg tablets make fine reductions easy; avoid or reduce the dose in older adults and in liver disease because of accumulation.",
                    "Clonazepam: long half-life without a long-acting metabolite; 0.5 mg tablets can be halved, and 0.125 mg steps are possible with orally disintegrating tablets.",
                    "Lorazepam or oxazepam: preferred when liver function is impaired, but their shorter half-lives make the final steps of a taper harder.",
                ],
            },
            {
                "heading": "Tapering after the switch",
                "new_page": True,
                "paragraphs": [
                    "Once stable on the new drug, reduce the total daily dose by about 5 to 25 percent every 2 to 4 weeks, making smaller reductions as the dose gets lower. Long-term users often need several months. Pauses of a few weeks are acceptable when withdrawal symptoms are troublesome; the taper should not be accelerated to finish sooner.",
                    "Never stop a benzodiazepine abruptly after more than a few weeks of regular use. Abrupt withdrawal from high doses can cause seizures, delirium and, rarely, death. Patients with a history of withdrawal seizures, very high doses, or concurrent alcohol dependence need specialist or inpatient supervision.",
                ],
            },
            {
                "heading": "Monitoring and safety",
                "bullets": [
                    "Review within 1 to 2 weeks of each switch step: drowsiness suggests the new dose is too high; rebound anxiety, tremor or insomnia suggest it is too low.",
                    "Check for opioid, alcohol and other sedative use; combined use with opioids can cause fatal respiratory depression (boxed warning for all benzodiazepines).",
                    "Dispense small quantities and use a single prescriber where possible.",
                    "Offer psychological support, such as cognitive behavioural therapy for anxiety or insomnia, throughout the taper.",
                ],
            },
            {
                "heading": "Key points",
                "bullets": [
                    "Diazepam 10 mg is roughly equivalent to lorazepam 1 mg, clonazepam 0.5 mg and alprazolam 0.5 mg, but tables vary.",
                    "Switch one dose at a time, then taper by 5 to 25 percent every 2 to 4 weeks.",
                    "Be conservative in older adults and in liver disease.",
                ],
            },
            {"heading": "Note", "paragraphs": [NOTE]},
        ],
    },
    {
        "slug": "perioperative-anticoagulant-protocol",
        "title": "Perioperative Management of Oral Anticoagulants: Sample Clinic Protocol",
        "author": "Sample Anticoagulation Clinic",
        "subject": "When to stop and restart warfarin and direct oral anticoagulants around elective procedures",
        "keywords": "anticoagulation, warfarin, apixaban, rivaroxaban, dabigatran, bridging, surgery, perioperative",
        "byline": "Sample clinic protocol, 2023. Prepared for the rag-oracle demonstration corpus.",
        "sections": [
            {
                "heading": "Scope",
                "paragraphs": [
                    "This protocol covers adults taking warfarin, apixaban, rivaroxaban, edoxaban or dabigatran who need an elective procedure. It does not cover emergency surgery, which requires anticoagulant reversal decisions, or patients with recent coronary stents taking antiplatelet therapy.",
                ],
            },
            {
                "heading": "Step 1: classify the bleeding risk of the procedure",
                "bullets": [
                    "Minimal risk (anticoagulant usually continued): most dental extractions and cleaning, cataract surgery, minor skin excisions, diagnostic endoscopy without biopsy.",
                    "Low to moderate risk: endoscopy with biopsy or small polypectomy, arthroscopy, hernia repair, cholecystectomy, carpal tunnel surgery, most cardiac device implantation.",
                    "High risk: major abdominal, thoracic, cardiac, vascular, intracranial or spinal surgery; hip or knee replacement; kidney or liver biopsy; large polypectomy; any procedure with spinal or epidural anaesthesia.",
                ],
            },
            {
                "heading": "Step 2: classify the thrombotic risk of the patient",
                "bullets": [
                    "High: mechanical mitral valve; older mechanical aortic valve designs; any mechanical valve with stroke; stroke or transient ischaemic attack within 3 months; venous thromboembolism within 3 months; severe thrombophilia such as antiphospholipid syndrome.",
                    "Moderate: atrial fibrillation with a high CHA2DS2-VASc score but no recent stroke; venous thromboembolism 3 to 12 months ago; active cancer.",
                    "Low: atrial fibrillation with few risk factors; a single venous thromboembolism more than 12 months ago.",
                ],
                "after": [
                    "Only patients at high thrombotic risk who take warfarin are considered for bridging. Patients taking DOACs are not bridged.",
                ],
            },
            {
                "heading": "Step 3: warfarin",
                "new_page": True,
                "bullets": [
                    "Day -6: last dose of warfarin (warfarin is stopped 5 days before the procedure).",
                    "Day -3: if bridging is indicated, start therapeutic low-molecular-weight heparin (for example enoxaparin 1 mg/kg twice daily).",
                    "Day -1: check INR. If the INR is above 1.5, give oral vitamin K 1 to 2 mg and recheck on the day of the procedure if possible. Give the last bridging dose in the morning, about 24 hours before surgery, at half the total daily dose.",
                    "Day 0: procedure. Resume warfarin at the usual dose in the evening, or the next day, if haemostasis is adequate.",
                    "After surgery: restart bridging heparin 24 hours after a low-bleeding-risk procedure and 48 to 72 hours after a high-bleeding-risk procedure; stop it when the INR is back in range.",
                ],
                "after": [
                    "Bridging increases major bleeding two- to three-fold and does not reduce stroke in typical patients with atrial fibrillation. It is therefore reserved for the high-risk group defined in Step 2.",
                ],
            },
            {
                "heading": "Step 4: direct oral anticoagulants",
                "new_page": True,
                "paragraphs": [
                    'In this protocol, a "1-day hold" means that no dose is taken on the day before the procedure, so the last dose is taken 2 days before surgery (roughly 36 to 48 hours before the procedure, depending on dosing times). A "2-day hold" means the last dose is taken 3 days before surgery (roughly 60 to 72 hours before). Other documents describe the same schedules as holding for "1 to 2 days" or "2 to 3 days".',
                ],
                "table": {
                    "header": ["Drug and renal function", "Low/moderate bleeding risk", "High bleeding risk"],
                    "rows": [
                        ["Apixaban, rivaroxaban, edoxaban", "1-day hold", "2-day hold"],
                        ["Dabigatran, CrCl 50 mL/min or more", "1-day hold", "2-day hold"],
                        ["Dabigatran, CrCl 30 to 49 mL/min", "2-day hold", "4-day hold"],
                    ],
                },
                "after": [
                    "Before spinal or epidural anaesthesia, hold factor Xa inhibitors for at least 3 days (72 hours) and follow local anaesthesia guidance. Preoperative DOAC levels are not routinely measured.",
                    "Restart the full dose 24 hours after a low/moderate-bleeding-risk procedure and 48 to 72 hours after a high-bleeding-risk procedure, once haemostasis is secure. If the full dose cannot be restarted, give prophylactic-dose anticoagulation for venous thromboembolism prevention from the evening after surgery where appropriate.",
                ],
            },
            {
                "heading": "Key points",
                "bullets": [
                    "Warfarin: stop 5 days before; INR the day before; resume the evening of surgery or next day.",
                    "Bridge only patients at high thrombotic risk taking warfarin.",
                    "DOACs: 1-day hold for low/moderate risk, 2-day hold for high risk; longer for dabigatran with reduced renal function; no bridging.",
                    "Restart DOACs at 24 hours (low risk) or 48 to 72 hours (high risk).",
                ],
            },
            {"heading": "Note", "paragraphs": [NOTE]},
        ],
    },
    {
        "slug": "acute-sinusitis-stewardship-guide",
        "title": "Acute Sinusitis in Adults: Antibiotic Stewardship Pocket Guide",
        "author": "Sample Primary Care Stewardship Group",
        "subject": "Diagnosis of acute bacterial sinusitis, watchful waiting, and antibiotic choice and duration",
        "keywords": "sinusitis, rhinosinusitis, antibiotics, amoxicillin, doxycycline, stewardship, watchful waiting",
        "byline": "Sample pocket guide, 2021. Prepared for the rag-oracle demonstration corpus.",
        "sections": [
            {
                "heading": "Why this guide",
                "paragraphs": [
                    "Acute sinusitis is among the leading reasons for antibiotic prescriptions in adult primary care, yet most episodes are viral and settle within 7 to 10 days. Each unnecessary course exposes the patient to side effects such as diarrhoea, rash and Clostridioides difficile infection, and contributes to antimicrobial resistance. This guide summarizes when antibiotics help, which to choose, and for how long.",
                ],
            },
            {
                "heading": "Is it bacterial?",
                "paragraphs": [
                    "Consider acute bacterial sinusitis only when one of three patterns is present:",
                ],
                "bullets": [
                    "Persistent: symptoms for 10 days or more without any improvement.",
                    "Severe: fever of 39 C or higher with purulent nasal discharge or facial pain for 3 to 4 consecutive days at the start of the illness.",
                    "Double worsening: symptoms that were improving become worse again, typically after day 5 or 6.",
                ],
                "after": [
                    "Green or yellow mucus on its own does not indicate bacterial infection. X-rays and CT scans are not needed for uncomplicated sinusitis.",
                ],
            },
            {
                "heading": "Watchful waiting",
                "new_page": True,
                "paragraphs": [
                    "For otherwise healthy adults with mild to moderate symptoms and reliable follow-up, watchful waiting is appropriate even when a bacterial cause is possible. Observe for 7 to 10 days from the start of symptoms. A delayed (back-up) prescription can be given with clear instructions to start it only if symptoms have not improved after 7 days, or if they worsen at any time.",
                    "Symptom relief: paracetamol or ibuprofen for pain and fever; saline nasal irrigation; an intranasal corticosteroid spray for congestion; adequate fluids and rest. Oral decongestants and antihistamines add little and may cause side effects.",
                    'A suggested explanation for patients: "This looks like a viral sinus infection. Antibiotics would not make you better faster, and they can cause side effects. Most people feel better within 10 days. If you are not improving in a week, or you get worse, start the prescription and contact us."',
                ],
            },
            {
                "heading": "If an antibiotic is needed",
                "new_page": True,
                "table": {
                    "header": ["Situation", "Antibiotic and adult dose", "Duration"],
                    "rows": [
                        ["First line", "Amoxicillin 500 mg three times daily or 875 mg twice daily", "5 to 7 days"],
                        ["Risk of resistance *", "Amoxicillin-clavulanate 875/125 mg twice daily", "5 to 7 days"],
                        ["High local resistance", "Amoxicillin-clavulanate 2000/125 mg twice daily", "5 to 7 days"],
                        ["Penicillin allergy", "Doxycycline 100 mg twice daily or 200 mg once daily", "5 to 7 days"],
                        [
                            "Severe allergy or failure",
                            "Levofloxacin 500 mg daily or moxifloxacin 400 mg daily",
                            "5 to 7 days",
                        ],
                    ],
                },
                "after": [
                    "* Antibiotics in the past month, age over 65, recent hospitalization, immunocompromise, or moderate to severe illness.",
                    "Not recommended for empirical treatment: azithromycin, clarithromycin and other macrolides, and trimethoprim-sulfamethoxazole, because of high pneumococcal resistance. Fluoroquinolones are reserved for patients without alternatives because of tendon, nerve and aortic adverse effects.",
                    "Children need longer courses (usually 10 to 14 days) and weight-based dosing; see paediatric guidance.",
                ],
            },
            {
                "heading": "Reassess and refer",
                "bullets": [
                    "No improvement after 3 to 5 days of antibiotics: confirm the diagnosis and consider switching to high-dose amoxicillin-clavulanate or an alternative class.",
                    "Same-day referral: swelling or redness around the eye, double or reduced vision, severe headache, neck stiffness, confusion, or high fever with systemic illness.",
                    "Three or more episodes a year, or symptoms beyond 12 weeks: evaluate for recurrent acute or chronic rhinosinusitis.",
                ],
            },
            {"heading": "Note", "paragraphs": [NOTE]},
        ],
    },
]


class SamplePDF(FPDF):
    """A4 document with a small running footer."""

    footer_text = "rag-oracle sample corpus - not clinical guidance"

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 10, f"{self.footer_text} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _check_latin1(doc: dict) -> None:
    def walk(value, where):
        if isinstance(value, str):
            try:
                value.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise SystemExit(
                    f"non latin-1 text in {doc['slug']} ({where}): {value[exc.start : exc.end]!r}"
                ) from None
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(doc, "doc")


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _bullets(pdf: FPDF, items: list[str]) -> None:
    pdf.set_font("Helvetica", "", 11)
    indent = 5
    for item in items:
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, 6, "- " + item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.ln(1)


def _table(pdf: FPDF, table: dict) -> None:
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(line_height=6, text_align="LEFT", first_row_as_headings=True) as t:
        for row in [table["header"], *table["rows"]]:
            r = t.row()
            for cell in row:
                r.cell(cell)
    pdf.ln(3)


def build_pdf(doc: dict, out_dir: Path) -> Path:
    _check_latin1(doc)
    pdf = SamplePDF(orientation="P", unit="mm", format="A4")
    pdf.set_compression(True)
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(doc["title"])
    pdf.set_author(doc["author"])
    pdf.set_subject(doc["subject"])
    pdf.set_keywords(doc["keywords"])
    pdf.set_creator("rag-oracle scripts/build_sample_pdfs.py")
    pdf.set_producer("fpdf2")
    pdf.set_lang("en")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, doc["title"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(0, 5, doc["byline"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    for section in doc["sections"]:
        if section.get("new_page"):
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, section["heading"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        for para in section.get("paragraphs", []):
            _paragraph(pdf, para)
        if section.get("bullets"):
            _bullets(pdf, section["bullets"])
        if section.get("table"):
            _table(pdf, section["table"])
        for para in section.get("after", []):
            _paragraph(pdf, para)
        pdf.ln(2)

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{doc['slug']}.pdf"
    pdf.output(str(path))
    return path


def verify(paths: list[Path]) -> bool:
    from pypdf import PdfReader

    ok = True
    for path in paths:
        reader = PdfReader(str(path))
        title = reader.metadata.title if reader.metadata else None
        print(f"{path.name}: {len(reader.pages)} pages, title={title!r}")
        if not title or not 2 <= len(reader.pages) <= 3:
            ok = False
        for i, page in enumerate(reader.pages):
            text = page.extract_text() or ""
            words = len(text.split())
            first = " ".join(text.split()[:10])
            print(f"  page {i + 1}: {words} words | {first} ...")
            if words < 50:
                ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: corpus/pdf)")
    parser.add_argument("--verify", action="store_true", help="check text extraction with pypdf")
    args = parser.parse_args(argv)

    paths = [build_pdf(doc, args.out) for doc in DOCUMENTS]
    for p in paths:
        print(f"wrote {p}")
    if args.verify and not verify(paths):
        print("verification failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
