const ok: number = 1;
const broken: number = ;
console.log(ok, broken);
