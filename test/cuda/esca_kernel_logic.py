"""Transliteration of the per-thread index logic of native/kernels/esca.cu into Python loops,
checked against PyTorch autograd in float64 (SaLogitsKernel for the forward;
DswKernel + ChunkSumKernel + EscaPlaneBackwardKernel + the gate kernels for the backward).

A development check for machines without a GPU: it validates the window offsets, the arg-max
tie rule and the gather formulation of the pool backward that the CUDA kernels use. It is not
part of the test suite (tests must not need Python); run it with /usr/bin/python3 after changing
the kernels' indexing:   /usr/bin/python3 test/cuda/esca_kernel_logic.py
"""
import torch, math
torch.manual_seed(0)
def wins(c,b): return c>b or math.isnan(c)
def run(N,C,H,W,k):
    x=torch.randn(N,C,H,W,dtype=torch.float64,requires_grad=True)
    wc=torch.randn(1,1,k,dtype=torch.float64,requires_grad=True)
    ws=(0.3*torch.randn(1,2*C,3,3,dtype=torch.float64)).requires_grad_()
    go=torch.randn(N,C,H,W,dtype=torch.float64)
    y=x*torch.sigmoid(torch.nn.functional.conv1d(x.mean((2,3)).view(N,1,C),wc,padding=(k-1)//2)).view(N,C,1,1)
    S=torch.cat([torch.nn.functional.avg_pool2d(y,3,1,1),torch.nn.functional.max_pool2d(y,3,1,1)],1)
    out=y*torch.sigmoid(torch.nn.functional.conv2d(S,ws,padding=1))
    out.backward(go)
    X=x.detach(); a=torch.sigmoid(torch.nn.functional.conv1d(X.mean((2,3)).view(N,1,C),wc.detach(),padding=(k-1)//2)).view(N,C)
    wsa=ws.detach().reshape(-1)
    # forward SaLogits
    sw=torch.zeros(N,H,W,dtype=torch.float64)
    for n in range(N):
      for qh in range(H):
        for qw in range(W):
          acc=0.0
          for c in range(C):
            v=[[0.0]*5 for _ in range(5)]; inn=[[False]*5 for _ in range(5)]
            for i in range(5):
              for j in range(5):
                h=qh+i-2; w=qw+j-2; inn[i][j]=0<=h<H and 0<=w<W
                v[i][j]=X[n,c,h,w].item() if inn[i][j] else 0.0
            wcw=[a[n,c].item()*wsa[(c if r<9 else C+c)*9+r%9].item() for r in range(18)]
            for i in range(3):
              for j in range(3):
                if not inn[i+1][j+1]: continue
                s=0.0; m=v[i+1][j+1]
                for u in range(3):
                  for t in range(3):
                    s+=v[i+u][j+t]
                    if inn[i+u][j+t] and wins(v[i+u][j+t],m): m=v[i+u][j+t]
                acc+=wcw[i*3+j]*(s/9)+wcw[9+i*3+j]*m
          sw[n,qh,qw]=1/(1+math.exp(-acc))
    o2=X*a.view(N,C,1,1)*sw.view(N,1,H,W)
    print('fwd err',(o2-out.detach()).abs().max().item())
    ds=(go*X*a.view(N,C,1,1)).sum(1)*sw*(1-sw)
    dx=torch.zeros_like(X); da=torch.zeros(N,C,dtype=torch.float64); dws=torch.zeros(N,C,18,dtype=torch.float64)
    for n in range(N):
     for c in range(C):
      wA=[wsa[c*9+i].item() for i in range(9)]; wM=[wsa[(C+c)*9+i].item() for i in range(9)]
      acc=[0.0]*19
      for ph in range(H):
       for pw in range(W):
        xv=[[0.0]*5 for _ in range(5)]; dv=[[0.0]*5 for _ in range(5)]; inn=[[False]*5 for _ in range(5)]
        for i in range(5):
          for j in range(5):
            h=ph+i-2; w=pw+j-2; inn[i][j]=0<=h<H and 0<=w<W
            xv[i][j]=X[n,c,h,w].item() if inn[i][j] else 0.0
            dv[i][j]=ds[n,h,w].item() if inn[i][j] else 0.0
        dy=go[n,c,ph,pw].item()*sw[n,ph,pw].item()
        for u in range(3):
          for v in range(3):
            if not inn[u+1][v+1]: continue
            dA=0.0; dM=0.0; best=xv[u+1][v+1]; bi=-1; bj=-1
            for i in range(3):
              for j in range(3):
                d=dv[2+u-i][2+v-j]; dA+=wA[i*3+j]*d; dM+=wM[i*3+j]*d
                if inn[u+i][v+j] and (bi<0 or wins(xv[u+i][v+j],best)): best=xv[u+i][v+j]; bi=u+i; bj=v+j
            dy+=dA/9
            if bi==2 and bj==2: dy+=dM
        s=0.0; m=xv[2][2]
        for i in range(1,4):
          for j in range(1,4):
            s+=xv[i][j]
            if inn[i][j] and wins(xv[i][j],m): m=xv[i][j]
        s/=9
        for i in range(3):
          for j in range(3):
            d=dv[3-i][3-j]; acc[i*3+j]+=s*d; acc[9+i*3+j]+=m*d
        acc[18]+=dy*xv[2][2]
        dx[n,c,ph,pw]=a[n,c].item()*dy
      for i in range(18): dws[n,c,i]=acc[i]*a[n,c].item()
      da[n,c]=acc[18]
    dwsa=torch.zeros(2*C*9,dtype=torch.float64)
    for c in range(C):
      for t in range(18): dwsa[(c if t<9 else C+c)*9+t%9]=dws[:,c,t].sum()
    pad=(k-1)//2; g=X.mean((2,3)); wcv=wc.detach().view(-1)
    dz=da*a*(1-a); dg=torch.zeros(N,C,dtype=torch.float64); dw=torch.zeros(k,dtype=torch.float64)
    for n in range(N):
      for c in range(C):
        for j in range(k):
          cc=c-j+pad
          if 0<=cc<C: dg[n,c]+=wcv[j]*dz[n,cc]
    for j in range(k):
      for n in range(N):
        for c in range(C):
          cc=c+j-pad
          if 0<=cc<C: dw[j]+=dz[n,c]*g[n,cc]
    dx=dx+dg.view(N,C,1,1)/(H*W)
    print('dx err',(dx-x.grad).abs().max().item(),'dwsa err',(dwsa-ws.grad.view(-1)).abs().max().item(),'dwca err',(dw-wc.grad.view(-1)).abs().max().item())
run(2,5,4,6,3)
run(1,3,1,5,3)
run(2,4,3,3,5)
