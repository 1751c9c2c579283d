// PET values as standardised uptake values (SUV, body weight): what radiologists read (SUVmax,
// SUVmean) and what the PET starter was trained on. A PET series in Bq/mL becomes SUVbw by the
// vendor-neutral recipe of QIBA (and 3D Slicer's PET DICOM extension): the injected dose, decayed
// from the injection to the scan start by the nuclide's half-life, per gram of body weight.
import { firstItem, numbers, str, TAG, type DicomDataSet } from './dicomParse';

/** What the values of a PET series are, and how they came to be. */
export interface PetUnits {
  /** 'SUVbw' (g/mL), or the series' own Units when they could not be turned into SUV. */
  unit: string;
  /** Multiply the stored (rescaled) values by this to get `unit`: 1 when kept as stored. */
  factor: number;
  /** One clause for reports: the weight, dose and decay used, or why the values were kept. */
  note: string;
}

/** Seconds since midnight of a DICOM time (TM: HHMMSS.FFFFFF, or the old HH:MM:SS); null when unusable. */
export function secondsOfTime(tm: string): number | null {
  const m = /^(\d\d):?(\d\d)?:?(\d\d)?(\.\d+)?$/.exec(tm.trim());
  if (!m) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0) + Number(m[4] ?? 0)];
  return h < 24 && min < 60 && s < 61 ? 3600 * h + 60 * min + s : null;
}

/** Seconds since 1970 of a DICOM date (DA: YYYYMMDD) and time; null when either is unusable. */
function secondsOfDateTime(da: string, tm: string): number | null {
  const d = /^(\d{4})(\d\d)(\d\d)$/.exec(da.trim());
  const t = secondsOfTime(tm);
  return d && t !== null ? Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3])) / 1000 + t : null;
}

/** Seconds since 1970 of a DICOM date-time (DT: YYYYMMDDHHMMSS.FFFFFF, its UTC offset ignored as TM has none). */
function secondsOfDt(dt: string): number | null {
  const m = /^(\d{8})(\d{2,6}(?:\.\d+)?)/.exec(dt.trim());
  return m ? secondsOfDateTime(m[1], m[2]) : null;
}

/** "11:02:30" for reports. */
function clock(seconds: number): string {
  const s = ((Math.round(seconds) % 86400) + 86400) % 86400;
  return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((v) => String(v).padStart(2, '0')).join(':');
}

/**
 * The SUVbw scale of a PET series (`files`: its data sets, any order), or why its values stay as
 * stored. Units BQML with DecayCorrection START (decayed to the scan start: the series time, or
 * the earliest acquisition when the series time is later) or ADMIN (decay-corrected to the
 * injection) give SUVbw; Units GML already are SUVbw; anything else is kept, with the reason.
 */
export function petUnitsOf(files: readonly DicomDataSet[]): PetUnits {
  const first = files[0];
  const units = str(first, TAG.units).trim().toUpperCase();
  const keep = (why: string): PetUnits => ({ unit: units === 'BQML' ? 'Bq/mL' : units || 'unknown units', factor: 1, note: `kept in ${units === 'BQML' ? 'Bq/mL' : units || 'its stored units'}: ${why}` });
  if (units === 'GML') return { unit: 'SUVbw', factor: 1, note: 'stored as SUVbw (Units GML)' };
  if (units !== 'BQML') return keep(`Units ${units ? `"${units}"` : 'absent'}; only Bq/mL (BQML) is turned into SUV`);
  const weightKg = numbers(first, TAG.patientWeight)[0];
  if (!(weightKg > 0 && weightKg < 700)) return keep(`no usable PatientWeight (0010,1030)${Number.isFinite(weightKg) ? ` (${weightKg} kg)` : ''}`);
  const drug = firstItem(first, TAG.radiopharmaceuticalInfoSeq);
  if (!drug) return keep('no RadiopharmaceuticalInformationSequence (0054,0016): the injected dose is unknown');
  const doseBq = numbers(drug, TAG.radionuclideTotalDose)[0];
  const halfLifeS = numbers(drug, TAG.radionuclideHalfLife)[0];
  if (!(doseBq > 0)) return keep('no usable RadionuclideTotalDose (0018,1074)');
  if (!(halfLifeS > 0)) return keep('no usable RadionuclideHalfLife (0018,1075)');
  const decayCorrection = str(first, TAG.decayCorrection).trim().toUpperCase();
  const mbq = `${(doseBq / 1e6).toFixed(1)} MBq`;
  if (decayCorrection === 'ADMIN') {
    return { unit: 'SUVbw', factor: (weightKg * 1000) / doseBq, note: `SUVbw from ${weightKg} kg and ${mbq} (values decay-corrected to the injection)` };
  }
  if (decayCorrection !== 'START') return keep(`DecayCorrection is ${decayCorrection ? `"${decayCorrection}"` : 'absent'}; SUV is computed for START and ADMIN`);

  const seriesDate = str(first, TAG.seriesDate) || str(first, TAG.acquisitionDate);
  const seriesStart = secondsOfDateTime(seriesDate, str(first, TAG.seriesTime));
  let earliestAcquisition: number | null = null;
  for (const ds of files) {
    const t = secondsOfDateTime(str(ds, TAG.acquisitionDate) || seriesDate, str(ds, TAG.acquisitionTime));
    if (t !== null && (earliestAcquisition === null || t < earliestAcquisition)) earliestAcquisition = t;
  }
  // A series time after the acquisitions (a re-processed series) is not the scan start.
  const scan = seriesStart !== null && (earliestAcquisition === null || seriesStart <= earliestAcquisition) ? seriesStart : earliestAcquisition;
  if (scan === null) return keep('no usable SeriesDate/SeriesTime or AcquisitionTime: the time of the scan is unknown');
  let injection = secondsOfDt(str(drug, TAG.radiopharmaceuticalStartDateTime));
  if (injection === null) {
    const startOfDay = secondsOfTime(str(drug, TAG.radiopharmaceuticalStartTime));
    if (startOfDay === null) return keep('no usable RadiopharmaceuticalStartTime (0018,1072): the time of the injection is unknown');
    // The injection's date is the scan's; an injection "later" than the scan was the day before.
    injection = scan - (((scan % 86400) - startOfDay + 86400) % 86400);
  }
  const decayS = scan - injection;
  if (decayS < 0 || decayS > 10 * halfLifeS) {
    return keep(`the injection (${clock(injection)}) is ${decayS < 0 ? 'after' : 'more than ten half-lives before'} the scan (${clock(scan)})`);
  }
  const decayedBq = doseBq * 2 ** (-decayS / halfLifeS);
  return {
    unit: 'SUVbw',
    factor: (weightKg * 1000) / decayedBq,
    note: `SUVbw from ${weightKg} kg and ${mbq} injected at ${clock(injection)}, decayed ${Math.round(decayS)} s (half-life ${halfLifeS} s) to the scan at ${clock(scan)}`,
  };
}
