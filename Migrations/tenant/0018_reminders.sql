-- Reminders the day before a due day (issue 20): a loan instalment and a tontine cycle each say
-- whether the member was reminded that it falls due, so the scheduler reminds once.
ALTER TABLE loan_instalments ADD COLUMN reminded boolean NOT NULL DEFAULT false;
ALTER TABLE tontine_cycles ADD COLUMN reminded boolean NOT NULL DEFAULT false;
