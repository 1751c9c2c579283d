// lesion-lab command line: placeholder until the NIfTI layer lands.
process.stderr.write('lesion-lab: no commands yet\n');
process.exit(2);
