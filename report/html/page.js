(function(){
"use strict";
var errbox=document.getElementById("js-errors");
function fail(msg){errbox.textContent+=(errbox.textContent?"\n":"")+msg;}
window.addEventListener("error",function(e){fail("script error: "+e.message+" (line "+e.lineno+")");});
var D=JSON.parse(document.getElementById("report-data").textContent);
/* outcome symbols: none reads as a unit or a factor next to its count ("sk1", not "1s"; "xf2", not "2x") */
var MARK=["\u2713","\u2717","E","xf","XP","sk","\u2013"];
var NAMES=D.outcomes, BADS={1:1,2:1,4:1};
var params=new URLSearchParams(location.search);
function $(id){return document.getElementById(id);}
function el(tag,attrs,text){var e=document.createElement(tag);if(attrs)for(var k in attrs)e.setAttribute(k,attrs[k]);
 if(text!==undefined&&text!==null)e.textContent=String(text);return e;}
/* an id that may wrap after its separators (:: - . [ ]), never inside a word; the text copies unchanged */
function idEl(tag,attrs,text){var e=el(tag,attrs),parts=String(text).split(/(?<=[:.\-\[\]_])/);
 parts.forEach(function(p,i){if(i)e.appendChild(document.createElement("wbr"));e.appendChild(document.createTextNode(p));});
 return e;}
function globRe(q){
 if(!/[*?]/.test(q))return null;
 var s=q.replace(/[.+^${}()|[\]\\]/g,"\\$&").replace(/\*/g,".*").replace(/\?/g,".");
 return new RegExp("^"+s+"$","i");}
function matcher(q){q=(q||"").trim();if(!q)return function(){return true;};var re=globRe(q);
 if(re)return function(s){return re.test(s);};q=q.toLowerCase();
 return function(s){return s.toLowerCase().indexOf(q)>=0;};}
function pager(box,total,size,page,go){
 box.textContent="";var n=Math.ceil(total/size);if(n<=1)return;
 function b(label,p){var x=el("button",{type:"button"},label);x.disabled=(p===page||p<0||p>=n);
  x.addEventListener("click",function(){go(p);});box.appendChild(x);}
 b("\u00ab first",0);b("\u2039 previous",page-1);
 box.appendChild(el("span",null," page "+(page+1)+" of "+n+" "));b("next \u203a",page+1);b("last \u00bb",n-1);}
function cellText(counts){
 var total=0,parts=[];for(var i=0;i<counts.length;i++)total+=counts[i];
 if(counts[0]===total)return "\u2713"+total;
 for(var j=1;j<counts.length;j++)if(counts[j])parts.push(MARK[j]+counts[j]);
 return parts.join(" ");}
function countsTitle(counts){var p=[];for(var i=0;i<counts.length;i++)if(counts[i])p.push(counts[i]+" "+NAMES[i]);
 return p.join(", ");}

/* summary */
function summary(){
 var s=D.summary,box=$("summary-body"),cards=el("div",{"class":"cards"});
 function card(label,value,bad){var c=el("div",{"class":"card"+(bad?" bad":"")});c.appendChild(el("b",null,value));
  c.appendChild(el("span",null,label));cards.appendChild(c);}
 card("status",D.status,D.status!=="complete");card("items",s.total||0);
 for(var i=0;i<NAMES.length;i++){var v=s[NAMES[i]]||0;if(v||i<2)card(NAMES[i],v,BADS[i]&&v>0);}
 var cl=s.claims||{};for(var k in cl)card("claims "+k,cl[k],k==="violated"&&cl[k]>0);
 box.appendChild(cards);
 var kv=el("table",{"class":"kv"});
 function row(k,v){if(v===null||v===undefined||v==="")return;var tr=el("tr");tr.appendChild(el("td",null,k));
  tr.appendChild(el("td",null,v));kv.appendChild(tr);}
 row("created",D.created);row("command",D.command);row("report",D.source);
 row("wall time",D.wall!=null?D.wall.toFixed(1)+" s":null);
 row("item time",s.duration!=null?Number(s.duration).toFixed(1)+" s (summed over items)":null);
 row("compilations",D.compilations+" (XLA programs compiled during the run, over every process; "+
  "persistent-cache hits included)");
 box.appendChild(kv);
 var envs=$("envs");envs.className="envs";
 D.envs.forEach(function(e){var d=el("div");d.appendChild(el("h3",null,"environment: "+e.host));
  var t=el("table",{"class":"kv"});e.rows.forEach(function(r){var tr=el("tr");tr.appendChild(el("td",null,r[0]));
  tr.appendChild(el("td",null,r[1]));t.appendChild(tr);});d.appendChild(t);envs.appendChild(d);});}

/* matrix */
var MPAGE=200,mpage=0;
function legend(){var box=$("legend");box.className="legend note";
 box.appendChild(el("span",null,"cell colour = worst outcome:"));
 var order=[0,3,5,6,4,1,2];order.forEach(function(i){box.appendChild(el("span",{"class":"o"+i},MARK[i]+" "+NAMES[i]));});
 box.appendChild(el("span",{"class":"empty"},"\u00b7 no items"));
 box.appendChild(el("span",null,"a cell shows symbol then count: \u201c\u27134\u201d = 4 items, all passed; "+
  "\u201c\u27172 sk1\u201d = 2 failed and 1 skipped (the others passed)"));}
function matrixRows(){
 var q=$("q").value,fam=$("family").value,failing=$("failing").checked,m=matcher(q),out=[];
 for(var i=0;i<D.rows.length;i++){var r=D.rows[i],fname=D.families[r[1]];
  if(fam!==""&&fname!==fam)continue;
  if(!(m(r[0])||(q&&!globRe(q)&&m(fname))))continue;
  if(failing&&!r[2].some(function(c){return BADS[c[1]];}))continue;
  out.push(i);}
 return out;}
function renderMatrix(){
 var t=$("matrix-table"),rows=matrixRows();t.textContent="";
 var head=el("thead"),hr=el("tr");hr.appendChild(el("th",{"class":"p"},"pattern"));
 D.columns.forEach(function(c){hr.appendChild(el("th",{title:c},c));});head.appendChild(hr);t.appendChild(head);
 var body=el("tbody"),start=mpage*MPAGE,lastFam=-1;
 if(start>=rows.length){mpage=0;start=0;}
 rows.slice(start,start+MPAGE).forEach(function(i){var r=D.rows[i];
  if(r[1]!==lastFam){lastFam=r[1];var fr=el("tr",{"class":"fam"});
   fr.appendChild(el("th",{colspan:D.columns.length+1},D.families[r[1]]));body.appendChild(fr);}
  var tr=el("tr",{"data-pattern":r[0]});tr.appendChild(el("th",{"class":"p"},r[0]));
  var byCol={};r[2].forEach(function(c){byCol[c[0]]=c;});
  for(var c=0;c<D.columns.length;c++){var cell=byCol[c];
   if(!cell){tr.appendChild(el("td",{"class":"empty",title:"no items"},"\u00b7"));continue;}
   var td=el("td",{"class":"cell o"+cell[1],title:r[0]+" \u00b7 "+D.columns[c]+": "+countsTitle(cell[2]),
    "data-col":D.columns[c]},cellText(cell[2]));
   (function(ri,ci){td.addEventListener("click",function(){showCell(ri,ci);});})(i,c);
   tr.appendChild(td);}
  body.appendChild(tr);});
 t.appendChild(body);
 $("matrix-count").textContent=rows.length+" of "+D.rows.length+" patterns";
 pager($("matrix-pages"),rows.length,MPAGE,mpage,function(p){mpage=p;renderMatrix();});}

/* failures */
var FPAGE=50,fpage=0;
function renderFailures(){
 var m=matcher($("fq").value),list=[],box=$("failure-list");box.textContent="";
 D.failures.forEach(function(f){if(m(D.items.id[f[0]])||m(f[2]||""))list.push(f);});
 $("failure-count").textContent=list.length+" of "+D.failures.length+" failing items"+
  (D.failuresLeftOut?" ("+D.failuresLeftOut+" more left out of this page: jaxpat report show --failures lists them)":"");
 if(!D.failures.length){box.appendChild(el("p",{"class":"note"},"No failures."));}
 list.slice(fpage*FPAGE,fpage*FPAGE+FPAGE).forEach(function(f){
  var d=el("div",{"class":"failure"});d.appendChild(idEl("div",{"class":"id"},D.items.id[f[0]]));
  d.appendChild(el("div",{"class":"headline"},NAMES[D.items.o[f[0]]]+": "+f[1]));
  if(f[2]){var m1=el("details");m1.appendChild(el("summary",null,"full message"));m1.appendChild(el("pre",null,f[2]));
   d.appendChild(m1);}
  if(f[3]){var m2=el("details");m2.appendChild(el("summary",null,"reproduce (python repro.py)"));
   m2.appendChild(el("pre",{"class":"repro"},f[3]));d.appendChild(m2);}
  box.appendChild(d);});
 pager($("failure-pages"),list.length,FPAGE,fpage,function(p){fpage=p;renderFailures();});}

/* claims */
var CPAGE=100,cpage=0;
function renderClaims(){
 var m=matcher($("cq").value),t=$("claim-table"),list=[];t.textContent="";
 D.claims.forEach(function(c){if(m(c.join(" ")))list.push(c);});
 $("claim-count").textContent=list.length+" of "+D.claims.length+" claim measurements";
 var hr=el("tr");["pattern","implementation","claim","verdict","measured","where"].forEach(function(h){
  hr.appendChild(el("th",null,h));});t.appendChild(hr);
 list.slice(cpage*CPAGE,cpage*CPAGE+CPAGE).forEach(function(c){var tr=el("tr");
  tr.appendChild(idEl("td",{"class":"id"},c[0]));tr.appendChild(idEl("td",{"class":"id"},c[1]));
  tr.appendChild(el("td",null,c[2]));var v=el("td");v.appendChild(el("span",{"class":"badge v-"+c[3]},c[3]));
  tr.appendChild(v);tr.appendChild(el("td",null,c[4]));tr.appendChild(el("td",null,c[5]));t.appendChild(tr);});
 pager($("claim-pages"),list.length,CPAGE,cpage,function(p){cpage=p;renderClaims();});}

/* items */
var IPAGE=100,ipage=0,cellFilter=null,RU={};(D.items.u||[]).forEach(function(i){RU[i]=1;});
function showCell(ri,ci){cellFilter=[ri,ci];ipage=0;renderItems();location.hash="items";}
function renderItems(){
 var m=matcher($("iq").value),oc=$("outcome").value,I=D.items,list=[],t=$("item-table");t.textContent="";
 var want=oc===""?-1:NAMES.indexOf(oc);
 for(var i=0;i<I.id.length;i++){
  if(want>=0&&I.o[i]!==want)continue;
  if(cellFilter&&(I.r[i]!==cellFilter[0]||I.c[i]!==cellFilter[1]))continue;
  if(!m(I.id[i]))continue;list.push(i);}
 var label=list.length+" of "+I.id.length+" items"+
  (D.itemsLeftOut?" ("+D.itemsLeftOut+" more left out of this page, which lists the first ones and every failing one; the matrix counts all)":"");
 if(cellFilter)label+=" in "+D.rows[cellFilter[0]][0]+" \u00b7 "+D.columns[cellFilter[1]];
 $("item-count").textContent=label;
 var hr=el("tr");["node id","column","outcome","seconds"].forEach(function(h){hr.appendChild(el("th",null,h));});
 t.appendChild(hr);
 list.slice(ipage*IPAGE,ipage*IPAGE+IPAGE).forEach(function(i){var tr=el("tr");
  tr.appendChild(idEl("td",{"class":"id"},I.id[i]));tr.appendChild(el("td",null,D.columns[I.c[i]]));
  var o=el("td");o.appendChild(el("span",{"class":"badge o"+I.o[i]},MARK[I.o[i]]+" "+NAMES[I.o[i]]));
  if(RU[i])o.appendChild(el("span",{"class":"badge reused",title:"the stored result of an earlier run: nothing that decides it changed"},"reused"));
  tr.appendChild(o);
  tr.appendChild(el("td",null,I.d[i]));t.appendChild(tr);});
 pager($("item-pages"),list.length,IPAGE,ipage,function(p){ipage=p;renderItems();});}

/* diff */
function renderDiff(){
 if(!D.diff)return;$("diff").hidden=false;$("nav-diff").hidden=false;
 var box=$("diff-body"),X=D.diff,kinds=X.categories,cards=el("div",{"class":"cards"});
 if(D.oldSource||X.oldCreated)box.appendChild(el("p",{"class":"note"},"older report: "+
  (D.oldSource||"")+(X.oldCreated?" (created "+X.oldCreated+")":"")));
 var st=el("div",{"class":"card"+(X.status==="regression"?" bad":"")});st.appendChild(el("b",null,X.status));
 st.appendChild(el("span",null,"status"));cards.appendChild(st);
 kinds.forEach(function(k){var c=el("div",{"class":"card"+(k==="regression"&&X.items[k].length?" bad":"")});
  c.appendChild(el("b",null,X.items[k].length));c.appendChild(el("span",null,k));cards.appendChild(c);});
 var u=el("div",{"class":"card"});u.appendChild(el("b",null,X.unchanged));u.appendChild(el("span",null,"unchanged"));
 cards.appendChild(u);box.appendChild(cards);
 if(X.env.length){var ed=el("details",{"data-kind":"environment"});
  ed.appendChild(el("summary",null,"environment and config ("+X.env.length+")"));var ul=el("ul");
  X.env.forEach(function(t){ul.appendChild(el("li",null,t));});ed.appendChild(ul);box.appendChild(ed);}
 kinds.forEach(function(k){var rows=X.items[k];if(!rows.length)return;
  var det=el("details",{"data-kind":k});if(k==="regression")det.open=true;
  det.appendChild(el("summary",null,k+" ("+rows.length+")"));var t=el("table",{"class":"list"}),shown=rows.slice(0,500);
  shown.forEach(function(r){var tr=el("tr");tr.appendChild(idEl("td",{"class":"id"},r[0]));
   tr.appendChild(el("td",null,(r[1]||"\u2013")+" \u2192 "+(r[2]||"\u2013")));tr.appendChild(el("td",{"class":"what"},r[3]));
   t.appendChild(tr);});
  det.appendChild(t);if(rows.length>shown.length)det.appendChild(el("p",{"class":"note"},
   (rows.length-shown.length)+" more: jaxpat report diff lists them all"));box.appendChild(det);});
 if(!kinds.some(function(k){return X.items[k].length;}))box.appendChild(el("p",null,"No changes."));}

function init(){
 summary();legend();
 var fam=$("family");D.families.forEach(function(f){fam.appendChild(el("option",{value:f},f));});
 var oc=$("outcome");NAMES.forEach(function(o){oc.appendChild(el("option",{value:o},o));});
 if(params.get("q"))$("q").value=params.get("q");
 if(params.get("family"))fam.value=params.get("family");
 if(params.get("failing"))$("failing").checked=true;
 if(params.get("items"))$("iq").value=params.get("items");
 if(params.get("outcome"))oc.value=params.get("outcome");
 $("q").addEventListener("input",function(){mpage=0;renderMatrix();});
 fam.addEventListener("change",function(){mpage=0;renderMatrix();});
 $("failing").addEventListener("change",function(){mpage=0;renderMatrix();});
 $("fq").addEventListener("input",function(){fpage=0;renderFailures();});
 $("cq").addEventListener("input",function(){cpage=0;renderClaims();});
 $("iq").addEventListener("input",function(){ipage=0;renderItems();});
 oc.addEventListener("change",function(){ipage=0;renderItems();});
 $("item-reset").addEventListener("click",function(){cellFilter=null;$("iq").value="";oc.value="";ipage=0;renderItems();});
 renderDiff();renderMatrix();renderFailures();renderClaims();renderItems();
 document.body.setAttribute("data-ready","1");}
try{init();}catch(e){fail("script error: "+(e&&e.stack||e));}
})();
